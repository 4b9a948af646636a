import { setupSystemResolver } from '../../core/dns/dns-server.js';
import { cliContext } from '../output/context.js';
import { out, printResult, warn } from '../output/print.js';

interface DnsSetupOptions {
  printManual?: boolean;
  dnsSuffix?: string;
  json?: boolean;
}

export default async function dnsSetup(opts: DnsSetupOptions): Promise<void> {
  const r = await setupSystemResolver(cliContext(), { printManual: opts.printManual, dnsSuffix: opts.dnsSuffix });
  if (opts.json) {
    printResult(r);
    return;
  }
  for (const w of r.warnings) warn(w);
  if (r.manual !== null) {
    out(r.manual);
    return;
  }
  const names = r.suffixes.map((s) => `.${s}`).join(', ');
  for (const f of r.written) out(`Wrote ${f}.`);
  out(`The system resolver now sends ${names} queries to 127.0.0.1:${r.port}${r.restarted ? ' (systemd-resolved restarted)' : ''}.`);
}
