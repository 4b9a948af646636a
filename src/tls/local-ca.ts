/**
 * cilo's local certificate authority, one per CILO_HOME: $CILO_HOME/ca/ (0700) holds the CA's
 * certificate (cilo-ca.crt, 0644: it is public, and `cilo trust` copies it into trust stores)
 * and its key (cilo-ca.key, 0600: whoever reads it can impersonate any site to a machine that
 * trusts the CA). It is made on first use and then kept: every trust store it was added to
 * would have to be updated if it changed.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomic.js';
import { homeId, type CiloPaths } from '../state/paths.js';
import { withNamedLock } from '../state/store.js';
import { issueLeaf, makeCa, type PemPair } from './certificates.js';

export interface CaFiles {
  dir: string;
  cert: string;
  key: string;
}

export function caFiles(paths: CiloPaths): CaFiles {
  const dir = join(paths.home, 'ca');
  return { dir, cert: join(dir, 'cilo-ca.crt'), key: join(dir, 'cilo-ca.key') };
}

interface LoadedCa extends PemPair {
  notAfter: Date;
}

function readCa(files: CaFiles): LoadedCa | undefined {
  if (!existsSync(files.cert) || !existsSync(files.key)) return undefined;
  const cert = readFileSync(files.cert, 'utf8');
  const key = readFileSync(files.key, 'utf8');
  return { cert, key, notAfter: new Date(new X509Certificate(cert).validTo) };
}

/** Makes the CA's files unless another process made them first (the caller holds the CA lock). */
function makeCaFiles(paths: CiloPaths, files: CaFiles, now: Date): LoadedCa {
  const existing = readCa(files);
  if (existing) return existing;
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  chmodSync(files.dir, 0o700);
  const ca = makeCa(homeId(paths), now);
  // The key first: a CA certificate on disk always has its key beside it.
  writeFileAtomic(files.key, ca.key, 0o600);
  writeFileAtomic(files.cert, ca.cert, 0o644);
  return { ...ca, notAfter: new Date(new X509Certificate(ca.cert).validTo) };
}

/** What core's LocalCa port (core/ports.ts) needs; default-context.ts wires it. */
export interface LocalCaFiles {
  ensure(): Promise<{ certFile: string }>;
  certFile(): string;
  issue(names: string[]): Promise<PemPair>;
}

export function localCa(paths: CiloPaths, now: () => Date = () => new Date()): LocalCaFiles {
  const files = caFiles(paths);
  let loaded: Promise<LoadedCa> | undefined;
  const load = (): Promise<LoadedCa> => {
    // Made once per CILO_HOME: concurrent cilo processes serialise on a named lock, and the
    // second one finds the first one's files.
    loaded ??= Promise.resolve(readCa(files) ?? withNamedLock(paths, 'ca', async () => makeCaFiles(paths, files, now()))).catch((e: unknown) => {
      loaded = undefined;
      throw e;
    });
    return loaded;
  };
  return {
    ensure: async () => {
      await load();
      return { certFile: files.cert };
    },
    certFile: () => files.cert,
    issue: async (names) => {
      const ca = await load();
      return issueLeaf(ca, ca.notAfter, names, now());
    },
  };
}
