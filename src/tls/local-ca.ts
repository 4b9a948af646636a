/**
 * cilo's local certificate authority, one per CILO_HOME: $CILO_HOME/ca/ (0700) holds the CA's
 * certificate (cilo-ca.crt, 0644: it is public, and `cilo trust` copies it into trust stores)
 * and its key (cilo-ca.key, 0600: whoever reads it can impersonate any site to a machine that
 * trusts the CA). It is made on first use and then kept: every trust store it was added to
 * would have to be updated if it changed.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomic.js';
import { homeId, type CiloPaths } from '../state/paths.js';
import { withNamedLock } from '../state/store.js';
import type { PemPair } from './certificates.js';

// The ASN.1 code loads only to make a CA or a certificate: `cilo run` needs just the CA's path.
const certificates = () => import('./certificates.js');

export interface CaFiles {
  dir: string;
  cert: string;
  key: string;
}

export function caFiles(paths: CiloPaths): CaFiles {
  const dir = join(paths.home, 'ca');
  return { dir, cert: join(dir, 'cilo-ca.crt'), key: join(dir, 'cilo-ca.key') };
}

const exists = (files: CaFiles) => existsSync(files.cert) && existsSync(files.key);

/** Makes the CA's files unless another process made them first (the caller holds the CA lock). */
async function makeCaFiles(paths: CiloPaths, files: CaFiles, now: Date): Promise<void> {
  if (exists(files)) return;
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  chmodSync(files.dir, 0o700);
  const ca = (await certificates()).makeCa(homeId(paths), now);
  // The key first: a CA certificate on disk always has its key beside it.
  writeFileAtomic(files.key, ca.key, 0o600);
  writeFileAtomic(files.cert, ca.cert, 0o644);
}

interface LoadedCa extends PemPair {
  notAfter: Date;
}

function readCa(files: CaFiles): LoadedCa {
  const cert = readFileSync(files.cert, 'utf8');
  return { cert, key: readFileSync(files.key, 'utf8'), notAfter: new Date(new X509Certificate(cert).validTo) };
}

/** The CA's files as `cilo doctor` sees them (core/ports.ts CaHealth). */
export interface CaInspection {
  certFile: string;
  keyFile: string;
  notAfter: string | undefined;
  problems: string[];
  keyMode: number | undefined;
}

/** A CA that ends within this many days is said to end soon (its trust stores must get a new one). */
const ENDING_SOON_DAYS = 30;

/** Checks the CA's files without changing them; undefined when neither exists (none was made yet). */
export function inspectCa(files: CaFiles, now: Date): CaInspection | undefined {
  if (!existsSync(files.cert) && !existsSync(files.key)) return undefined;
  const problems: string[] = [];
  let notAfter: string | undefined;
  let keyMode: number | undefined;
  if (existsSync(files.key)) {
    const mode = statSync(files.key).mode & 0o777;
    if ((mode & 0o077) !== 0) keyMode = mode;
  } else problems.push(`The CA's key ${files.key} is missing, so no certificate can be issued; move the CA directory ${files.dir} aside and let cilo make a new CA (then run \`cilo trust\` again).`);
  if (!existsSync(files.cert)) {
    problems.push(`The CA's certificate ${files.cert} is missing; move ${files.dir} aside and let cilo make a new CA (then run \`cilo trust\` again).`);
    return { certFile: files.cert, keyFile: files.key, notAfter, problems, keyMode };
  }
  try {
    const cert = new X509Certificate(readFileSync(files.cert));
    notAfter = new Date(cert.validTo).toISOString();
    if (!cert.ca) problems.push(`${files.cert} is not a CA certificate.`);
    const left = (new Date(cert.validTo).getTime() - now.getTime()) / 86_400_000;
    if (left < 0) problems.push(`cilo's CA ended on ${notAfter}: browsers refuse the router's certificates. Move ${files.dir} aside, let cilo make a new CA, and run \`cilo trust\` again.`);
    else if (left < ENDING_SOON_DAYS) problems.push(`cilo's CA ends on ${notAfter}, in ${Math.floor(left)} days.`);
    if (existsSync(files.key) && !cert.checkPrivateKey(createPrivateKey(readFileSync(files.key)))) problems.push(`The key ${files.key} is not the key of the CA certificate ${files.cert}.`);
  } catch (e) {
    problems.push(`cilo's CA files cannot be read (${e instanceof Error ? e.message : String(e)}).`);
  }
  return { certFile: files.cert, keyFile: files.key, notAfter, problems, keyMode };
}

/** What core's LocalCa port (core/ports.ts) needs; default-context.ts wires it. */
export interface LocalCaFiles {
  ensure(): Promise<{ certFile: string }>;
  certFile(): string;
  issue(names: string[]): Promise<PemPair>;
  authority(): Promise<PemPair>;
  inspect(): Promise<CaInspection | undefined>;
}

export function localCa(paths: CiloPaths, now: () => Date = () => new Date()): LocalCaFiles {
  const files = caFiles(paths);
  let made: Promise<void> | undefined;
  const ensure = (): Promise<void> => {
    // Made once per CILO_HOME: concurrent cilo processes serialise on a named lock, and the
    // second one finds the first one's files.
    made ??= (exists(files) ? Promise.resolve() : withNamedLock(paths, 'ca', () => makeCaFiles(paths, files, now()))).catch((e: unknown) => {
      made = undefined;
      throw e;
    });
    return made;
  };
  let loaded: LoadedCa | undefined;
  return {
    ensure: async () => {
      await ensure();
      return { certFile: files.cert };
    },
    certFile: () => files.cert,
    issue: async (names) => {
      await ensure();
      loaded ??= readCa(files);
      return (await certificates()).issueLeaf(loaded, loaded.notAfter, names, now());
    },
    authority: async () => {
      await ensure();
      loaded ??= readCa(files);
      return { cert: loaded.cert, key: loaded.key };
    },
    inspect: async () => inspectCa(files, now()),
  };
}
