/**
 * cilo's local certificate authority, one per CILO_HOME: $CILO_HOME/ca/ (0700) holds the CA's
 * certificate (cilo-ca.crt, 0644: it is public, and `cilo trust` copies it into trust stores)
 * and its key (cilo-ca.key, 0600: whoever reads it can impersonate any site to a machine that
 * trusts the CA). It is made on first use and then kept: every trust store it was added to
 * would have to be updated if it changed. The root's key never leaves this directory: the
 * loopback router gets an intermediate CA (router-<hash of its suffixes>.crt/.key here, key 0600)
 * whose name constraints let it sign only for the suffixes the router serves.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
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

/** A router intermediate that ends within this many days is replaced by a new one. */
const INTERMEDIATE_RENEW_DAYS = 30;

/** The root certificate (no key) and the router's intermediate CA (certificate and key), PEM. */
export interface RouterCa {
  root: string;
  cert: string;
  key: string;
  /** The root was made anew (the one on disk allowed no intermediate): trust stores need it again. */
  newRoot: boolean;
}

/** The files of the intermediate for one set of suffixes (sites that serve other suffixes each have their own). */
function intermediateFiles(files: CaFiles, suffixes: readonly string[]): { cert: string; key: string } {
  const id = createHash('sha256').update([...new Set(suffixes)].sort().join('\n')).digest('hex').slice(0, 16);
  return { cert: join(files.dir, `router-${id}.crt`), key: join(files.dir, `router-${id}.key`) };
}

/** The intermediate on disk if it is signed by this root and lasts beyond the renewal window. */
function usableIntermediate(at: { cert: string; key: string }, root: string, now: Date): PemPair | undefined {
  if (!existsSync(at.cert) || !existsSync(at.key)) return undefined;
  try {
    const cert = readFileSync(at.cert, 'utf8');
    const key = readFileSync(at.key, 'utf8');
    const x = new X509Certificate(cert);
    const rootX = new X509Certificate(root);
    const left = new Date(x.validTo).getTime() - now.getTime();
    if (left < INTERMEDIATE_RENEW_DAYS * 86_400_000 || !x.checkIssued(rootX) || !x.verify(rootX.publicKey) || !x.checkPrivateKey(createPrivateKey(key))) return undefined;
    return { cert, key };
  } catch {
    return undefined;
  }
}

/**
 * The router's intermediate for `suffixes`, made (under the CA lock) when there is none for that
 * set, it ends within INTERMEDIATE_RENEW_DAYS, or the root changed. A root made by an older cilo
 * (pathLen 0: no CA may sign below it) is made anew first.
 */
async function routerCaFiles(paths: CiloPaths, files: CaFiles, suffixes: readonly string[], now: Date): Promise<RouterCa> {
  // Most syncs find it made: no lock, no ASN.1 code (an intermediate this root signed means the root allows one).
  if (exists(files)) {
    const root = readFileSync(files.cert, 'utf8');
    const kept = usableIntermediate(intermediateFiles(files, suffixes), root, now);
    if (kept) return { root, ...kept, newRoot: false };
  }
  return withNamedLock(paths, 'ca', async () => {
    const certs = await certificates();
    let newRoot = false;
    if (!exists(files)) await makeCaFiles(paths, files, now);
    else if (!certs.allowsIntermediate(readFileSync(files.cert, 'utf8'))) {
      const ca = certs.makeCa(homeId(paths), now);
      writeFileAtomic(files.key, ca.key, 0o600);
      writeFileAtomic(files.cert, ca.cert, 0o644);
      newRoot = true;
    }
    const root = readCa(files);
    const at = intermediateFiles(files, suffixes);
    const kept = usableIntermediate(at, root.cert, now);
    if (kept) return { root: root.cert, ...kept, newRoot };
    const made = certs.issueIntermediate(root, root.notAfter, suffixes, now);
    writeFileAtomic(at.key, made.key, 0o600);
    writeFileAtomic(at.cert, made.cert, 0o644);
    return { root: root.cert, ...made, newRoot };
  });
}

/** What core's LocalCa port (core/ports.ts) needs; default-context.ts wires it. */
export interface LocalCaFiles {
  ensure(): Promise<{ certFile: string }>;
  certFile(): string;
  issue(names: string[]): Promise<PemPair>;
  routerCa(suffixes: readonly string[]): Promise<RouterCa>;
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
    routerCa: async (suffixes) => {
      await ensure();
      const ca = await routerCaFiles(paths, files, suffixes, now());
      // A root made anew here is the one later leaves are signed with.
      if (ca.newRoot) loaded = undefined;
      return ca;
    },
    inspect: async () => inspectCa(files, now()),
  };
}
