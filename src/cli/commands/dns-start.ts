import { startDnsServer } from '../../core/dns/dns-server.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

interface DnsStartOptions {
  json?: boolean;
}

export default async function dnsStart(opts: DnsStartOptions): Promise<void> {
  const r = await startDnsServer(cliContext());
  if (opts.json) printResult(r);
  else out(`DNS server ${r.started ? 'started' : 'already running'} on ${r.address}:${r.port} (pid ${r.pid}).`);
}
