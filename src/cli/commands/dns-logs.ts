import { dnsServerLog, followDnsServerLog } from '../../core/dns/dns-server.js';
import { cliContext } from '../output/context.js';
import { outText } from '../output/print.js';

interface DnsLogsOptions {
  tail?: number;
  follow?: boolean;
}

export default async function dnsLogs(opts: DnsLogsOptions): Promise<void> {
  const ctx = cliContext();
  const { text, end } = await dnsServerLog(ctx, opts.tail);
  outText(text);
  if (opts.follow) await followDnsServerLog(ctx, end, outText);
}
