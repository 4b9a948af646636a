import type { Command } from 'commander';

/** Registers the `dns` command group. (Filled in by the DNS server work.) */
export function registerDnsCommands(_program: Command): void {}
