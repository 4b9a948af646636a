/**
 * `cilo trust`: puts cilo's CA (ctx.ca, one per CILO_HOME) into this machine's trust stores, so
 * browsers, curl and language runtimes accept the router's certificates, and takes it out again.
 * Each store is tried on its own; one that needs privileges cilo lacks, or a program that is
 * not installed, gives the exact commands to run instead. Programs run with argument arrays
 * through ctx.proc, never through a shell.
 */
import { copyFileSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CiloError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import type { CoreContext } from '../context.js';

export type TrustStoreKind = 'debian' | 'fedora' | 'macos' | 'nss';

/**
 * What happened to one store. `manual`: cilo could not do it (no permission, a program
 * missing); `run` holds the shell lines that do it. `failed`: a program cilo ran failed.
 */
export interface TrustStoreResult {
  kind: TrustStoreKind;
  /** The file or database the CA goes into. */
  location: string;
  outcome: 'installed' | 'removed' | 'absent' | 'manual' | 'failed';
  run: string[];
  detail?: string;
}

export interface TrustResult {
  ca_file: string;
  action: 'install' | 'remove';
  stores: TrustStoreResult[];
}

export interface TrustOptions {
  remove?: boolean;
  /** For tests: the platform and the file system root the system stores are looked for under. */
  platform?: NodeJS.Platform;
  root?: string;
  home?: string;
}

type Ctx = Pick<CoreContext, 'paths' | 'ca' | 'proc'>;

const RUN_TIMEOUT_MS = 120_000;
const MAC_KEYCHAIN = '/Library/Keychains/System.keychain';

/** Quotes one word for display in a line the user pastes into a shell. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const line = (argv: string[]) => argv.map(shellWord).join(' ');

/** The CA's file, made if there is none yet (`cilo trust --print`). */
export async function caFile(ctx: Ctx): Promise<string> {
  return (await ctx.ca.ensure()).certFile;
}

/** The name the CA has in every store: CILO_HOMEs of one machine each have their own. */
export function trustName(ctx: Pick<CoreContext, 'paths'>): string {
  return `cilo-${homeId(ctx.paths)}`;
}

interface Env {
  ctx: Ctx;
  ca: string;
  name: string;
  remove: boolean;
  root: string;
  home: string;
  isRoot: boolean;
}

async function program(ctx: Ctx, name: string, extraDirs: string[] = []): Promise<string | undefined> {
  const pathVar = [process.env.PATH ?? '', ...extraDirs].filter((p) => p !== '').join(':');
  const r = await ctx.proc.findProgram(name, '/', pathVar);
  return r.found ? r.path : undefined;
}

async function runs(ctx: Ctx, argv: string[]): Promise<{ ok: boolean; detail?: string }> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return { ok: true };
  try {
    const r = await ctx.proc.runHidden(cmd, args, { cwd: '/', env: process.env, timeoutMs: RUN_TIMEOUT_MS });
    if (r.code === 0) return { ok: true };
    const how = r.timedOut ? 'did not finish in time' : r.signal ? `was killed (${r.signal})` : `exited with code ${r.code}`;
    return { ok: false, detail: `\`${line(argv)}\` ${how}: run it yourself to see why.` };
  } catch (e) {
    return { ok: false, detail: `\`${line(argv)}\` could not start: ${(e as Error).message}` };
  }
}

const denied = (e: unknown) => ['EACCES', 'EPERM', 'EROFS'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * A directory of anchors plus a program that rebuilds the bundle from it: Debian/Ubuntu
 * (/usr/local/share/ca-certificates, update-ca-certificates; the file must end in .crt) and
 * Fedora/RHEL (/etc/pki/ca-trust/source/anchors, update-ca-trust extract).
 */
async function anchorStore(e: Env, kind: 'debian' | 'fedora', dir: string, update: string[]): Promise<TrustStoreResult | undefined> {
  const anchors = join(e.root, dir);
  if (!existsSync(anchors)) return undefined;
  const target = join(anchors, `${e.name}.crt`);
  const shown = join('/', dir, `${e.name}.crt`);
  const sudo = e.isRoot ? [] : ['sudo'];
  const manualRun = e.remove ? [line([...sudo, 'rm', '-f', shown]), line([...sudo, ...update])] : [line([...sudo, 'install', '-m', '0644', e.ca, shown]), line([...sudo, ...update])];
  const updater = await program(e.ctx, update[0] ?? '', ['/usr/sbin', '/sbin', '/usr/bin']);
  if (e.remove && !existsSync(target)) return { kind, location: shown, outcome: 'absent', run: [] };
  if (!updater) return { kind, location: shown, outcome: 'manual', run: manualRun, detail: `\`${update[0]}\` was not found.` };
  try {
    if (e.remove) rmSync(target, { force: true });
    else copyFileSync(e.ca, target);
  } catch (err) {
    if (denied(err)) return { kind, location: shown, outcome: 'manual', run: manualRun, detail: `no permission to write ${anchors}.` };
    throw err;
  }
  const r = await runs(e.ctx, [updater, ...update.slice(1)]);
  if (!r.ok) return { kind, location: shown, outcome: 'failed', run: [line([...sudo, ...update])], ...(r.detail ? { detail: r.detail } : {}) };
  return { kind, location: shown, outcome: e.remove ? 'removed' : 'installed', run: [] };
}

/** macOS's System keychain, through `security` (needs root: run by hand with sudo otherwise). */
async function macosStore(e: Env, platform: NodeJS.Platform): Promise<TrustStoreResult | undefined> {
  if (platform !== 'darwin') return undefined;
  const commonName = `cilo local CA ${homeId(e.ctx.paths)}`;
  const steps = e.remove
    ? [
        ['security', 'remove-trusted-cert', '-d', e.ca],
        ['security', 'delete-certificate', '-c', commonName, MAC_KEYCHAIN],
      ]
    : [['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', MAC_KEYCHAIN, e.ca]];
  const manual = steps.map((s) => line(['sudo', ...s]));
  if (!e.isRoot) return { kind: 'macos', location: MAC_KEYCHAIN, outcome: 'manual', run: manual, detail: 'the System keychain needs root.' };
  for (const s of steps) {
    const r = await runs(e.ctx, s);
    if (!r.ok) return { kind: 'macos', location: MAC_KEYCHAIN, outcome: 'failed', run: manual, ...(r.detail ? { detail: r.detail } : {}) };
  }
  return { kind: 'macos', location: MAC_KEYCHAIN, outcome: e.remove ? 'removed' : 'installed', run: [] };
}

/** The user's NSS databases, which Chromium (~/.pki/nssdb) and Firefox (its profiles) read instead of the system store on Linux. */
function nssDatabases(home: string): string[] {
  const dbs: string[] = [];
  const shared = join(home, '.pki', 'nssdb');
  if (existsSync(join(shared, 'cert9.db'))) dbs.push(shared);
  for (const base of [join(home, '.mozilla', 'firefox'), join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox')]) {
    let entries: string[] = [];
    try {
      entries = readdirSync(base);
    } catch {
      continue;
    }
    for (const p of entries.map((n) => join(base, n))) {
      if (existsSync(join(p, 'cert9.db')) && statSync(p).isDirectory()) dbs.push(p);
    }
  }
  return dbs;
}

async function nssStores(e: Env, platform: NodeJS.Platform): Promise<TrustStoreResult[]> {
  if (platform === 'win32') return [];
  const dbs = nssDatabases(e.home);
  if (dbs.length === 0) return [];
  const certutil = await program(e.ctx, 'certutil');
  const results: TrustStoreResult[] = [];
  for (const db of dbs) {
    const d = `sql:${db}`;
    const step = e.remove ? ['certutil', '-d', d, '-D', '-n', e.name] : ['certutil', '-d', d, '-A', '-t', 'C,,', '-n', e.name, '-i', e.ca];
    if (!certutil) {
      results.push({ kind: 'nss', location: db, outcome: 'manual', run: [line(step)], detail: '`certutil` was not found (Debian/Ubuntu: apt-get install libnss3-tools; Fedora: dnf install nss-tools; macOS: brew install nss).' });
      continue;
    }
    if (e.remove && !(await runs(e.ctx, [certutil, '-d', d, '-L', '-n', e.name])).ok) {
      results.push({ kind: 'nss', location: db, outcome: 'absent', run: [] });
      continue;
    }
    const r = await runs(e.ctx, [certutil, ...step.slice(1)]);
    results.push(r.ok ? { kind: 'nss', location: db, outcome: e.remove ? 'removed' : 'installed', run: [] } : { kind: 'nss', location: db, outcome: 'failed', run: [line(step)], ...(r.detail ? { detail: r.detail } : {}) });
  }
  return results;
}

/**
 * Installs (or with `remove`, removes) the CA in every trust store found on this machine.
 * Fails only when no store was found at all: there is then nothing cilo knows to do or to say.
 */
export async function trust(ctx: Ctx, opts: TrustOptions = {}): Promise<TrustResult> {
  const platform = opts.platform ?? process.platform;
  const remove = opts.remove === true;
  // Removing needs no CA: the stores are named after this home, and a missing CA is not made for it.
  const ca = remove ? ctx.ca.certFile() : await caFile(ctx);
  const e: Env = {
    ctx,
    ca,
    name: trustName(ctx),
    remove,
    root: opts.root ?? '/',
    home: opts.home ?? homedir(),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
  };
  const stores: TrustStoreResult[] = [];
  const add = (r: TrustStoreResult | undefined) => r && stores.push(r);
  if (platform === 'linux') {
    // --fresh on removal: without it the links to a removed file stay in /etc/ssl/certs (dangling).
    add(await anchorStore(e, 'debian', 'usr/local/share/ca-certificates', remove ? ['update-ca-certificates', '--fresh'] : ['update-ca-certificates']));
    add(await anchorStore(e, 'fedora', 'etc/pki/ca-trust/source/anchors', ['update-ca-trust', 'extract']));
  }
  add(await macosStore(e, platform));
  stores.push(...(await nssStores(e, platform)));
  if (stores.length === 0 && !remove) {
    throw new CiloError('TRUST', `cilo knows no trust store on this system (${platform}) to add its CA to.`, {
      hint: `Add ${ca} to the system's or the browser's trust store by hand; \`cilo trust --print\` prints that path.`,
    });
  }
  return { ca_file: ca, action: remove ? 'remove' : 'install', stores };
}
