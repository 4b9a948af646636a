import { mkdirSync, readFileSync, copyFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { CiloError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic.js';
import { isLegacyText, keepLegacyBackup, legacyNotes, upgradeLegacyData } from './legacy.js';
import { properLockfile } from './lockfile.js';
import { ciloPaths, type CiloPaths } from './paths.js';
import type { State } from '../domain/state.js';
import { emptyState, parseState } from './schema.js';
import { TextMemo } from './text-memo.js';

/** Creates CILO_HOME (private to the user) and its subdirectories if missing. */
export function ensureHome(paths: CiloPaths): void {
  for (const dir of [paths.home, paths.envsDir, paths.dnsDir, paths.generatedDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  // mkdir's mode is filtered by the umask and ignored for existing dirs: enforce it.
  chmodSync(paths.home, 0o700);
}

function corrupt(paths: CiloPaths, problem: string): CiloError {
  const hasBackup = existsSync(paths.stateBackup);
  return new CiloError('STATE_CORRUPT', `The state file ${paths.state} is corrupted (${problem}); cilo will not overwrite it.`, {
    hint: hasBackup
      ? `Run \`cilo doctor --fix\` to restore the last good copy from ${paths.stateBackup}.`
      : 'Repair or move the file aside by hand; there is no backup to restore.',
  });
}

const parsed = new TextMemo<State>();

/**
 * Parses a state file's text; throws STATE_CORRUPT rather than ever resetting it. The text
 * last parsed is not validated again (see text-memo.ts); each call returns its own copy.
 */
export function parseStateText(paths: CiloPaths, text: string): State {
  const known = parsed.get(text);
  if (known !== undefined) return known;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw corrupt(paths, text.trim() === '' ? 'it is empty' : `invalid JSON: ${(e as Error).message}`);
  }
  // A state written by the original cilo (version 2) is read as version 3 (legacy.ts).
  const upgraded = upgradeLegacyData(paths, data);
  const r = parseState(upgraded);
  if (!r.ok) throw corrupt(paths, r.problem);
  // A migrated state depends on more than the text (the time, CILO_DNS_PORT, CILO_HOME).
  if (upgraded === data) parsed.set(text, r.state);
  return r.state;
}

/**
 * Reads the current state without taking the lock, and never writes (a file left by the
 * original cilo is migrated in memory only). Safe because writers replace the file by rename; a
 * reader sees either the old or the new version. Never use the result to write.
 */
export function readState(paths: CiloPaths = ciloPaths()): State {
  let text: string;
  try {
    text = readFileSync(paths.state, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw e;
  }
  return parseStateText(paths, text);
}

/**
 * Rewrites a state file left by the original cilo as version 3 (the original kept as its
 * backup), in a state transaction; any other file is left alone. Returns whether it migrated.
 */
export async function upgradeLegacyStateFile(paths: CiloPaths): Promise<boolean> {
  let text: string;
  try {
    text = readFileSync(paths.state, 'utf8');
  } catch {
    return false;
  }
  return upgradeIfLegacy(paths, text);
}

async function upgradeIfLegacy(paths: CiloPaths, text: string, onMigrated?: (notes: string[]) => void): Promise<boolean> {
  if (!isLegacyText(text)) return false;
  // A transaction writes version 3 whenever it read a legacy file (keepLegacyBackup below).
  // What the migration changed is told by the one transaction that rewrites the file: the
  // text under the lock is still the legacy one only there.
  const notes = await withStateLock(() => {
    const now = readFileSync(paths.state, 'utf8');
    return isLegacyText(now) ? legacyNotes(paths, now) : [];
  }, paths);
  if (notes.length > 0) onMigrated?.(notes);
  return true;
}

/**
 * What a command starts with: the state (read once), after a file left by the original cilo
 * was rewritten as version 3 (`onMigrated` is told what that changed: renamed or dropped
 * environments...). Undefined when there is no state file yet.
 */
export async function readStateUpgraded(paths: CiloPaths, onMigrated?: (notes: string[]) => void): Promise<State | undefined> {
  let text: string;
  try {
    text = readFileSync(paths.state, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return (await upgradeIfLegacy(paths, text, onMigrated)) ? readState(paths) : parseStateText(paths, text);
}

function writeState(paths: CiloPaths, state: State, previousText: string | undefined): void {
  // Keep the last good state: it was parsed and validated when this transaction read it.
  if (previousText !== undefined) writeFileAtomic(paths.stateBackup, previousText);
  writeFileAtomic(paths.state, `${JSON.stringify(state, null, 2)}\n`);
}

const LOCK_OPTIONS = {
  realpath: false,
  lockfilePath: '',
  // A killed holder stops refreshing the lock; after `stale` ms others may take it.
  stale: 10_000,
  update: 2_000,
  retries: { retries: 600, factor: 1.2, minTimeout: 5, maxTimeout: 100, randomize: true },
};

/**
 * The only way to change state: exclusive lock, read, validate, change, atomic write.
 * `fn` may mutate the state it is given; its return value is passed through. If `fn`
 * throws, nothing is written.
 */
export async function withStateLock<T>(fn: (state: State) => T | Promise<T>, paths: CiloPaths = ciloPaths()): Promise<T> {
  ensureHome(paths);
  let release: () => Promise<void>;
  try {
    release = await (await properLockfile()).lock(paths.state, { ...LOCK_OPTIONS, lockfilePath: paths.stateLock });
  } catch (e) {
    throw new CiloError('STATE_LOCKED', `Could not lock the state file ${paths.state}: another cilo process holds it.`, {
      hint: 'Wait for the other cilo command to finish and try again.',
      cause: e,
    });
  }
  try {
    let previousText: string | undefined;
    try {
      previousText = readFileSync(paths.state, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const state = previousText === undefined ? emptyState() : parseStateText(paths, previousText);
    const legacy = previousText !== undefined && keepLegacyBackup(paths, previousText, writeFileAtomic);
    const before = JSON.stringify(state);
    const result = await fn(state);
    if (JSON.stringify(state) !== before || previousText === undefined || legacy) writeState(paths, state, previousText);
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Runs `fn` holding an exclusive lock named `name` under CILO_HOME/locks (for work longer than
 * a state transaction, such as creating a shared container, that must not run twice at once).
 */
export async function withNamedLock<T>(paths: CiloPaths, name: string, fn: () => Promise<T>): Promise<T> {
  const dir = join(paths.home, 'locks');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, name);
  let release: () => Promise<void>;
  try {
    release = await (await properLockfile()).lock(target, { ...LOCK_OPTIONS, lockfilePath: `${target}.lock`, retries: { retries: 3000, factor: 1.1, minTimeout: 20, maxTimeout: 200 } });
  } catch (e) {
    throw new CiloError('STATE_LOCKED', `Could not take the lock ${name}: another cilo process has held it for too long.`, { hint: 'Wait for the other cilo command to finish and try again.', cause: e });
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/** Replaces the state file with its backup (used by `doctor --fix`), keeping the bad file aside. */
export function restoreBackup(paths: CiloPaths): string {
  const aside = `${paths.state}.corrupt-${Date.now()}`;
  if (existsSync(paths.state)) copyFileSync(paths.state, aside);
  const text = readFileSync(paths.stateBackup, 'utf8');
  parseStateText({ ...paths, state: paths.stateBackup }, text);
  writeFileAtomic(paths.state, text);
  return aside;
}
