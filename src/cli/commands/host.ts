import { addHost, hostStatus, listHosts, removeHost } from '../../core/hosts/hosts.js';
import type { HostTransport } from '../../domain/state.js';
import { confirm } from '../output/confirm.js';
import { cliContext } from '../output/context.js';
import { info, out, printJson, printResult, printTable } from '../output/print.js';

interface AddOptions {
  transport?: HostTransport;
  acceptHostKey?: string;
  identity?: string;
  subnet?: string;
  remoteSocket?: string;
  socksPort?: number;
  force?: boolean;
  json?: boolean;
}

export async function add(name: string, target: string, opts: AddOptions): Promise<void> {
  // On a terminal, an unknown host key is shown and trusted only when the user says so.
  const confirmHostKey = process.stdin.isTTY && !opts.json ? (ssh: string, keys: string) => confirm(`The SSH host key of ${ssh} is ${keys}. Trust it?`) : undefined;
  const { host: h, trustedFrom } = await addHost(cliContext(), { name, target, transport: opts.transport, acceptHostKey: opts.acceptHostKey, identity: opts.identity, subnet: opts.subnet, remoteSocket: opts.remoteSocket, socksPort: opts.socksPort, force: opts.force, confirmHostKey });
  if (trustedFrom) info(`Trusted the SSH host key of ${h.ssh}: ${trustedFrom} already lists it.`);
  if (opts.json) printResult({ host: h, host_key_trusted_from: trustedFrom });
  else out(`Added host ${h.name} (${h.ssh}, engine ${h.engine_id.slice(0, 12)}, range ${h.subnet}, transport ${h.transport}).`);
}

export async function list(opts: { json?: boolean }): Promise<void> {
  const hosts = listHosts(cliContext());
  if (opts.json) {
    printJson({ hosts });
    return;
  }
  if (hosts.length === 0) {
    out('No hosts. Add one with `cilo host add <name> ssh://user@host`.');
    return;
  }
  printTable(
    ['NAME', 'SSH', 'TRANSPORT', 'RANGE', 'ENVIRONMENTS'],
    hosts.map((h) => [h.name, h.ssh, h.transport, h.subnet, h.environments.join(' ') || '-']),
  );
}

export async function status(name: string, opts: { json?: boolean }): Promise<number> {
  const s = await hostStatus(cliContext(), name);
  if (opts.json) printJson(s);
  else {
    out(`Host:         ${s.name}`);
    out(`SSH:          ${s.ssh}${s.context ? ` (context ${s.context})` : ''}`);
    out(`Engine:       ${s.reachable ? `reachable, Docker ${s.engine_version ?? '?'}` : `unreachable: ${s.problem ?? ''}`}`);
    out(`Engine ID:    ${s.engine_id}`);
    out(`Range:        ${s.subnet}`);
    out(`Transport:    ${s.transport}`);
    if (s.tunnel) out(`Tunnel:       ${s.tunnel.interface} ${s.tunnel.up ? 'up' : 'down'} (${s.tunnel.local} -> ${s.tunnel.remote}, last handshake ${s.tunnel.last_handshake ?? 'none'})`);
    out(`Workspaces:   ${s.remote_root}`);
    if (s.socks) out(`SOCKS5 proxy: ${s.socks} (e.g. curl --socks5 ${s.socks} http://<service ip>/)`);
    out(`Environments: ${s.environments.join(' ') || '-'}`);
  }
  return s.reachable ? 0 : 1;
}

export async function rm(name: string, opts: { json?: boolean }): Promise<void> {
  const h = await removeHost(cliContext(), name);
  if (opts.json) printResult({ removed: h.name });
  else out(`Removed host ${h.name}.`);
}
