import { dnsServerStatus } from '../../core/dns/dns-server.js';
import { cliContext } from '../output/context.js';
import { out, printJson } from '../output/print.js';

interface DnsStatusOptions {
  json?: boolean;
}

export default async function dnsStatus(opts: DnsStatusOptions): Promise<void> {
  const s = await dnsServerStatus(cliContext());
  if (opts.json) {
    printJson(s);
    return;
  }
  if (!s.running) out(`DNS server: not running (port ${s.port}). Start it with \`cilo dns start\`.`);
  else out(`DNS server: running (pid ${s.pid}) on ${s.address}:${s.port}, ${s.answering ? 'answering' : 'NOT answering'}.`);
  out(`Log: ${s.log}`);
}
