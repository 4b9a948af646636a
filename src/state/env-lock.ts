/**
 * One cilo command at a time per environment name (create, up, run, fork, destroy of that name):
 * the original's README loop runs every agent as `cilo up test`, and two commands making one
 * environment at once took each other's creation over (two networks with one name, a workspace
 * copied over while the other compose read it, a database created twice).
 *
 * The lock is proper-lockfile's directory under CILO_HOME/locks, kept fresh by its holder: a
 * holder killed with SIGKILL leaves it behind, and it is taken over once it has not been
 * refreshed for STALE_MS (other signals release it on the way out). State stays on this
 * machine for environments on remote hosts too, so the lock covers those as well.
 *
 * Order: a caller that holds an environment's lock may take the state lock (withStateLock);
 * under the state lock an environment's lock is only ever tried, never waited for.
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { properLockfile } from './lockfile.js';
import type { CiloPaths } from './paths.js';
import { writeFileAtomic } from '../files/atomic.js';

/** A killed holder blocks the others this long at most. */
const STALE_MS = 30_000;
const UPDATE_MS = 5_000;
const POLL_MS = 250;

export interface EnvironmentLockOptions {
  /** Told once, when the lock is held by another command and this one starts waiting. */
  onWait?: ((holder: string | undefined) => void) | undefined;
  /**
   * Told when the lock was taken over because this process did not refresh it within
   * STALE_MS (a machine so busy that its timers stall): the default would throw from a timer.
   */
  onLost?: ((e: Error) => void) | undefined;
}

export type Release = () => Promise<void>;

function lockTarget(paths: CiloPaths, env: string): string {
  const dir = join(paths.home, 'locks');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, `env-${env}`);
}

/** Takes the environment's lock if it is free (or its holder is dead); undefined if a live command holds it. */
export async function tryLockEnvironment(paths: CiloPaths, env: string, opts: EnvironmentLockOptions = {}): Promise<Release | undefined> {
  const target = lockTarget(paths, env);
  let release: Release;
  try {
    release = await (await properLockfile()).lock(target, {
      realpath: false,
      lockfilePath: `${target}.lock`,
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: 0,
      onCompromised: (e: Error) => (opts.onLost ?? (() => undefined))(e),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw e;
  }
  // Who holds it, for the message of those who wait (removed before the lock is released).
  const owner = `${target}.owner`;
  try {
    writeFileAtomic(owner, `${process.pid} ${process.argv.slice(2).join(' ')}`.trim());
  } catch {
    // only a message depends on it
  }
  return async () => {
    rmSync(owner, { force: true });
    await release().catch(() => undefined);
  };
}

/**
 * Whether a live command holds the environment's lock now. A holder killed with SIGKILL leaves
 * a lock that looks held until STALE_MS have passed; its pid in the owner file tells sooner
 * (only when that file was written under this very lock: written before it, it is a previous
 * holder's, and the new one has not written its own yet).
 */
export async function environmentBusy(paths: CiloPaths, env: string): Promise<boolean> {
  const target = lockTarget(paths, env);
  if (!(await (await properLockfile()).check(target, { realpath: false, lockfilePath: `${target}.lock`, stale: STALE_MS }))) return false;
  return !holderKnownDead(target);
}

function holderKnownDead(target: string): boolean {
  try {
    const born = statSync(`${target}.lock`).birthtimeMs;
    const owner = `${target}.owner`;
    if (!(born > 0) || statSync(owner).mtimeMs < born) return false;
    const pid = Number(readFileSync(owner, 'utf8').split(' ')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The pid and arguments of the command holding the lock, as it wrote them. */
function holderOf(paths: CiloPaths, env: string): string | undefined {
  try {
    const [pid, ...args] = readFileSync(`${lockTarget(paths, env)}.owner`, 'utf8').split(' ');
    return args.length > 0 ? `\`cilo ${args.join(' ')}\`, pid ${pid}` : `pid ${pid}`;
  } catch {
    return undefined;
  }
}

/** Waits for the environment's lock as long as a live command holds it. */
export async function lockEnvironment(paths: CiloPaths, env: string, opts: EnvironmentLockOptions = {}): Promise<Release> {
  let told = false;
  for (;;) {
    const release = await tryLockEnvironment(paths, env, opts);
    if (release) return release;
    if (!told) {
      told = true;
      opts.onWait?.(holderOf(paths, env));
    }
    await new Promise((r) => setTimeout(r, POLL_MS + Math.floor(Math.random() * POLL_MS)));
  }
}

/** Runs `fn` holding the environment's lock (waiting for it while another command holds it). */
export async function withEnvironmentLock<T>(paths: CiloPaths, env: string, fn: () => Promise<T>, opts: EnvironmentLockOptions = {}): Promise<T> {
  const release = await lockEnvironment(paths, env, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}
