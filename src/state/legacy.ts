/**
 * The file side of migrating a state written by the original cilo (see migrate-v2.ts): every
 * reader sees the migrated state at once (in memory), and the first state transaction rewrites
 * the file as version 3, after keeping the original as `state.json.v2-backup` (never
 * overwritten: the first original is the one worth keeping). The CLI runs such a transaction
 * before any command that finds a legacy file (store.ts `upgradeLegacyStateFile`).
 */
import { existsSync } from 'node:fs';
import type { CiloPaths } from './paths.js';
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

/** What migrating a legacy state's text changes (renamed, dropped environments...). */
export function legacyNotes(paths: CiloPaths, text: string): string[] {
  try {
    return migrateLegacyState(JSON.parse(text), { envsDir: paths.envsDir, dnsPort: defaultDnsPort() }).notes;
  } catch {
    return [];
  }
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

/** Whether a state file's text was written by the original cilo (and so is still to be migrated). */
export function isLegacyText(text: string): boolean {
  return parseLegacy(text) !== undefined;
}
