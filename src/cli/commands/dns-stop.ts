import { stopDnsServer } from '../../core/dns/dns-server.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

interface DnsStopOptions {
  json?: boolean;
}

export default async function dnsStop(opts: DnsStopOptions): Promise<void> {
  const r = await stopDnsServer(cliContext());
  if (opts.json) printResult(r);
  else if (r.stopped) out(`DNS server stopped (pid ${r.pid}).`);
  else if (r.stale_pid_file) out('DNS server was not running; removed a stale pid file (the process it named was not signalled).');
  else out('DNS server was not running.');
}
