import { dnsLog, followDnsLog } from '../../dns/log.js';
import { ciloPaths } from '../../state/paths.js';
import { outText } from '../output/print.js';

interface DnsLogsOptions {
  tail?: number;
  follow?: boolean;
}

export default async function dnsLogs(opts: DnsLogsOptions): Promise<void> {
  const paths = ciloPaths();
  const { text, end } = dnsLog(paths, opts.tail);
  outText(text);
  if (opts.follow) await followDnsLog(paths, end, outText);
}
