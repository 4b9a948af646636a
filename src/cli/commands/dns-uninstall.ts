import { uninstallSystemResolver } from '../../core/dns/dns-server.js';
import { cliContext } from '../output/context.js';
import { out, printResult, warn } from '../output/print.js';

interface DnsUninstallOptions {
  json?: boolean;
}

export default async function dnsUninstall(opts: DnsUninstallOptions): Promise<void> {
  const r = await uninstallSystemResolver(cliContext());
  if (opts.json) {
    printResult(r);
    return;
  }
  for (const w of r.warnings) warn(w);
  for (const f of r.kept) warn(`${f} was not written by cilo; left in place.`);
  if (r.removed.length === 0) out('Nothing to remove: no system resolver configuration written by cilo was found.');
  for (const f of r.removed) out(`Removed ${f}.`);
}
