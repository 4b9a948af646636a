import { stopDaemon } from '../../dns/daemon.js';
import { out, printJson } from '../output/print.js';

interface DnsStopOptions {
  json?: boolean;
}

export default async function dnsStop(opts: DnsStopOptions): Promise<void> {
  const r = await stopDaemon();
  if (opts.json) printJson(r);
  else if (r.stopped) out(`DNS server stopped (pid ${r.pid}).`);
  else if (r.stale_pid_file) out('DNS server was not running; removed a stale pid file (the process it named was not signalled).');
  else out('DNS server was not running.');
}
