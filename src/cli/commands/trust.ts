import { caFile, trust as trustCa, type TrustStoreResult } from '../../core/trust/trust.js';
import { CiloError } from '../../errors.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

interface TrustOptions {
  print?: boolean;
  remove?: boolean;
  json?: boolean;
}

const STORE: Record<TrustStoreResult['kind'], string> = {
  debian: 'system store (update-ca-certificates)',
  fedora: 'system store (update-ca-trust)',
  macos: 'macOS System keychain',
  nss: 'NSS database (Chromium, Firefox)',
};

function describe(s: TrustStoreResult): string {
  const where = `${STORE[s.kind]}, ${s.location}`;
  switch (s.outcome) {
    case 'installed':
      return `Added to the ${where}.`;
    case 'removed':
      return `Removed from the ${where}.`;
    case 'absent':
      return `Not in the ${where}.`;
    case 'manual':
      return `Could not change the ${where}: ${s.detail ?? ''} Run:`;
    case 'failed':
      return `Failed to change the ${where}: ${s.detail ?? ''} Run:`;
  }
}

export default async function trust(opts: TrustOptions): Promise<void> {
  if (opts.print && opts.remove) throw new CiloError('USAGE', '--print and --remove do opposite things: --print only shows the CA file, --remove takes the CA out of the trust stores.', { hint: 'Give one of them.', exitCode: 2 });
  const ctx = cliContext();
  if (opts.print) {
    const file = await caFile(ctx);
    if (opts.json) printResult({ ca_file: file });
    else out(file);
    return;
  }
  const r = await trustCa(ctx, { remove: opts.remove === true });
  if (opts.json) {
    printResult(r);
    return;
  }
  if (r.stores.length === 0) out(`cilo's CA (${r.ca_file}) is in no trust store cilo knows on this system: nothing to remove.`);
  for (const s of r.stores) {
    out(describe(s));
    for (const l of s.run) out(`  ${l}`);
  }
  if (r.action === 'install' && r.stores.some((s) => s.outcome === 'installed')) out(`Programs started from now on trust the certificates cilo's CA (${r.ca_file}) signs; restart a browser that was open.`);
}
