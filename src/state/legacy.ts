/**
 * The file side of migrating a state written by the original cilo (see migrate-v2.ts): every
 * reader sees the migrated state at once (in memory), and the first cilo process that gets the
 * state lock rewrites the file as version 3, after keeping the original as
 * `state.json.v2-backup` (never overwritten: the first original is the one worth keeping).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { CiloPaths } from './paths.js';
import properLockfile from './lockfile.cjs';
import { isLegacyState, legacyVersion, migrateLegacyState } from './migrate-v2.js';
import type { State } from '../domain/state.js';
import { defaultDnsPort } from './schema.js';

export function legacyBackupPath(paths: CiloPaths, version = 2): string {
  return `${paths.state}.v${version}-backup`;
}

/** Cheap test on the text: our own files always carry `"version": 3`. */
function mayBeLegacy(text: string): boolean {
  return !/"version"\s*:\s*3\b/.test(text);
}

function parseLegacy(text: string): unknown {
  if (!mayBeLegacy(text)) return undefined;
  try {
    const data: unknown = JSON.parse(text);
    return isLegacyState(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

/** A legacy state's data converted to version 3; any other data is returned as it is. */
export function upgradeLegacyData(paths: CiloPaths, data: unknown): unknown {
  if (!isLegacyState(data)) return data;
  return migrateLegacyState(data, { envsDir: paths.envsDir, dnsPort: defaultDnsPort() }).state satisfies State;
}

/**
 * Called inside the state lock with the text just read: if it is a legacy state, keeps it as
 * the backup (unless one exists) and returns true, so the transaction writes version 3.
 */
export function keepLegacyBackup(paths: CiloPaths, text: string, write: (path: string, data: string) => void): boolean {
  const data = parseLegacy(text);
  if (data === undefined) return false;
  const backup = legacyBackupPath(paths, legacyVersion(data));
  if (!existsSync(backup)) write(backup, text);
  return true;
}

/**
 * For readers outside a transaction (`cilo list`...): migrates the file now if the lock is
 * free. If another process holds it, that process migrates it; the reader goes on with the
 * in-memory migration either way.
 */
export function migrateLegacyFileSync(paths: CiloPaths, text: string, write: (path: string, data: string) => void): void {
  if (parseLegacy(text) === undefined) return;
  let release: (() => void) | undefined;
  try {
    release = properLockfile().lockSync(paths.state, { realpath: false, lockfilePath: paths.stateLock, stale: 10_000 });
  } catch {
    return;
  }
  try {
    const current = readFileSync(paths.state, 'utf8');
    if (!keepLegacyBackup(paths, current, write)) return;
    const state = upgradeLegacyData(paths, JSON.parse(current));
    write(paths.state, `${JSON.stringify(state, null, 2)}\n`);
  } catch {
    // Left for the next transaction, which reports a real problem with the file.
  } finally {
    try {
      release();
    } catch {
      // already released
    }
  }
}
