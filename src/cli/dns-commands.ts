/**
 * The `dns` command group: the built-in DNS server (start, stop, status; `serve` is the hidden
 * body of the background process) and the system resolver configuration (setup, uninstall).
 * Like main.ts, each command's code is imported only when it runs.
 */
import type { Command } from 'commander';
import { lazy } from './lazy.js';

export function registerDnsCommands(program: Command): void {
  const dns = program
    .command('dns')
    .description('the DNS server on 127.0.0.1 and the system resolver configuration')
    .addHelpText('after', '\nNames served: <service>.<env><suffix>, <project>.<env><suffix> and *.<project>.<env><suffix>, <hostname>.<env><suffix>.');

  dns
    .command('start')
    .description('start the DNS server in the background (no-op if it already runs)')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/dns-start.js')));

  dns
    .command('stop')
    .description('stop the DNS server')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/dns-stop.js')));

  dns
    .command('status')
    .description('show whether the DNS server runs and answers')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/dns-status.js')));

  dns
    .command('setup')
    .description('route the DNS suffix(es) of the system resolver to cilo (needs root, or --print-manual)')
    .option('--print-manual', 'print the steps instead of doing them (needs no root)')
    .option('--dns-suffix <suffix>', 'a suffix to route in addition to .test and those of existing environments')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/dns-setup.js')));

  dns
    .command('uninstall')
    .description('remove the system resolver configuration written by `cilo dns setup`')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/dns-uninstall.js')));

  // The background process itself, started by `cilo dns start`; not for users.
  dns
    .command('serve', { hidden: true })
    .description('run the DNS server in the foreground')
    .option('--token <token>', 'start token chosen by `cilo dns start`')
    .action(lazy(() => import('./commands/dns-serve.js')));
}
