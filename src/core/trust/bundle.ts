/**
 * The files `cilo run` points a command's TLS variables at: the CA itself (NODE_EXTRA_CA_CERTS,
 * which adds to Node's own roots) and a bundle of the system's roots plus the CA (SSL_CERT_FILE,
 * REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE each replace the roots a program trusts, so cilo's CA alone
 * would break every other HTTPS site).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../files/atomic.js';
import type { CoreContext } from '../context.js';

/** Where distributions keep the PEM bundle of trusted roots (Debian/Ubuntu/Alpine, Fedora/RHEL, openSUSE, macOS). */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem'];

export interface TrustFiles {
  caFile: string;
  /** Absent where no system bundle was found: the bundle variables are then left alone. */
  bundleFile?: string;
}

function readFirst(files: readonly string[]): string | undefined {
  for (const f of files) {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      // the next place
    }
  }
  return undefined;
}

/**
 * Makes the CA if needed and writes the bundle beside it ($CILO_HOME/ca/bundle.pem) when its
 * contents would change (a new CA, or the system's roots updated).
 */
export async function trustFiles(ctx: Pick<CoreContext, 'ca'>, systemBundles: readonly string[] = SYSTEM_BUNDLES): Promise<TrustFiles> {
  const { certFile } = await ctx.ca.ensure();
  const system = readFirst(systemBundles);
  if (system === undefined) return { caFile: certFile };
  const bundleFile = join(dirname(certFile), 'bundle.pem');
  const text = `${system.replace(/\n*$/, '\n')}\n# cilo's local CA (${certFile})\n${readFileSync(certFile, 'utf8')}`;
  let current: string | undefined;
  try {
    current = readFileSync(bundleFile, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== text) {
    mkdirSync(dirname(bundleFile), { recursive: true, mode: 0o700 });
    writeFileAtomic(bundleFile, text, 0o644);
  }
  return { caFile: certFile, bundleFile };
}
