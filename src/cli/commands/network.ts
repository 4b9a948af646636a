import { migrateNetwork, networkStatus } from '../../core/network/network-admin.js';
import { cliContext } from '../output/context.js';
import { out, printJson, printResult, printTable } from '../output/print.js';

export async function status(opts: { json?: boolean }): Promise<void> {
  const s = await networkStatus(cliContext());
  if (opts.json) {
    printJson(s);
    return;
  }
  out(`Base subnets: ${s.base_subnets.join(', ')}`);
  out(`DNS:          127.0.0.1:${s.dns_port}`);
  out('');
  if (s.environments.length === 0) {
    out('No environments.');
    return;
  }
  printTable(
    ['NAME', 'PROJECT', 'STATUS', 'SUBNET', 'NETWORK', 'SERVICES'],
    s.environments.map((e) => [
      e.name,
      e.project,
      e.status,
      `${e.subnet}${e.in_range ? '' : ' (outside base)'}${e.host ? ` (host ${e.host})` : ''}`,
      e.network_subnet === null ? 'missing' : e.network_subnet === e.subnet ? 'ok' : `differs (${e.network_subnet})`,
      e.services.map((x) => `${x.name}=${x.ip}`).join(' ') || '-',
    ]),
  );
}

export async function migrate(cidr: string | undefined, opts: { force?: boolean; json?: boolean }): Promise<void> {
  const r = await migrateNetwork(cliContext(), { cidr, force: opts.force });
  if (opts.json) {
    printResult(r);
    return;
  }
  if (r.moved.length === 0) out(`Nothing to move: every environment is inside ${r.base_subnets.join(', ')}.`);
  for (const m of r.moved) out(`Moved ${m.name} from ${m.from} to ${m.to}${m.restarted ? ' and started it again' : ''}.`);
  out(`Base subnets: ${r.base_subnets.join(', ')}`);
}
