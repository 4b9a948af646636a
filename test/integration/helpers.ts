/**
 * Shared helpers of the integration suite: a fixture image built offline, fixture projects
 * copied from test/fixtures/, a temporary CILO_HOME per test, the built CLI as a child process,
 * cleanup by label, and waitFor (test/support/wait.ts) for anything that happens later.
 */
import { createServer as createNetServer } from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerClient } from '../../src/docker/client.js';
import type { State } from '../../src/domain/state.js';
import { ciloPaths } from '../../src/state/paths.js';
import { withStateLock } from '../../src/state/store.js';
import { forgetHome, pidAlive, recordHome, removeHome, removeProjectResources as removeProjectResourcesOf, whenStopped } from '../support/sweep.js';

export { waitFor } from '../support/wait.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cilo.js');
export const FIXTURE_IMAGE = 'cilo-fixture/busybox:1';

export const docker = new DockerClient();

/** A short random id for names that must not collide with other tests or runs. */
export function uid(prefix = 't'): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8)}`;
}

function findStaticBusybox(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(p)) continue;
    const r = spawnSync(p, ['--list'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const ldd = spawnSync('ldd', [p], { encoding: 'utf8' });
    if (/not a dynamic executable|statically linked/.test(`${ldd.stdout}${ldd.stderr}`)) return p;
  }
  return undefined;
}

/**
 * Builds the fixture image from the host's static busybox with `docker import` (no registry).
 * On Debian-like hosts without it, installs the busybox-static package first.
 */
export function ensureFixtureImage(): void {
  const has = spawnSync('docker', ['image', 'inspect', FIXTURE_IMAGE], { stdio: 'ignore' });
  if (has.status === 0) return;
  let bb = findStaticBusybox();
  if (!bb && existsSync('/usr/bin/apt-get') && process.getuid?.() === 0) {
    spawnSync('apt-get', ['install', '-y', '-qq', 'busybox-static'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    bb = findStaticBusybox();
  }
  if (!bb) throw new Error('The integration suite needs a static busybox to build its fixture image: install busybox-static (Debian/Ubuntu: apt-get install busybox-static).');
  const dir = mkdtempSync(join(tmpdir(), 'cilo-fixture-'));
  try {
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'etc'));
    mkdirSync(join(dir, 'tmp'));
    chmodSync(join(dir, 'tmp'), 0o1777);
    copyFileSync(bb, join(dir, 'bin', 'busybox'));
    chmodSync(join(dir, 'bin', 'busybox'), 0o755);
    const applets = spawnSync(bb, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
    writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
    writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tar = spawnSync('sh', ['-c', `tar -C '${dir}' -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - ${FIXTURE_IMAGE}`], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`docker import of the fixture image failed: ${tar.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestHome {
  home: string;
  env: NodeJS.ProcessEnv;
  dnsPort: number;
  /** The base range of this home, its own so that concurrent test files never compete for subnets. */
  baseSubnet: string;
  cli: (args: string[], opts?: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv }) => Promise<CliResult>;
  cleanup: () => Promise<void>;
}

let portCounter = 0;
/** A DNS port unique to this test process (the suite never uses the default 5354). */
export function testDnsPort(): number {
  portCounter += 1;
  return 20000 + ((process.pid * 7 + portCounter * 13) % 20000);
}

export function runCli(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 128, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

const BASES_DIR = join(tmpdir(), 'cilo-test-bases');
/** Claims of homes not cleaned up (a failing before()): given back when the process exits. */
const unreleased = new Set<() => void>();
process.once('exit', () => {
  for (const release of unreleased) release();
});

/**
 * A base range 10.N.0.0/16 (N in 100..219) that no other live test home on this machine holds,
 * claimed with an atomic mkdir. Random picks alone collided: two test files running at once
 * then competed for the same subnets, and "the freed subnet is reused" saw another home's
 * network. A claim left by a process that died more than 10 minutes ago is taken over.
 */
function claimBaseSubnet(): { baseSubnet: string; release: () => void } {
  mkdirSync(BASES_DIR, { recursive: true });
  for (let attempt = 0; attempt < 1000; attempt++) {
    const n = 100 + Math.floor(Math.random() * 120);
    const marker = join(BASES_DIR, String(n));
    try {
      mkdirSync(marker);
      writeFileSync(join(marker, 'pid'), String(process.pid));
      return { baseSubnet: `10.${n}.0.0/16`, release: () => rmSync(marker, { recursive: true, force: true }) };
    } catch {
      try {
        const pid = Number(readFileSync(join(marker, 'pid'), 'utf8'));
        if (!pidAlive(pid) && Date.now() - statSync(marker).mtimeMs > 10 * 60_000) rmSync(marker, { recursive: true, force: true });
      } catch {
        // being claimed right now, or just released
      }
    }
  }
  throw new Error(`no free test base range under ${BASES_DIR}`);
}

/** A temporary CILO_HOME with its own DNS port; cleanup removes every labelled resource of it. */
export function makeHome(): TestHome {
  const home = mkdtempSync(join(tmpdir(), 'cilo-home-'));
  // Recorded before anything can use it, so that a killed test process still leaves it to the sweep.
  recordHome(home);
  // Its `after` hook never runs when the process is told to stop: remove it then.
  const unlessStopped = whenStopped(() => removeHome(home));
  const dnsPort = testDnsPort();
  const { baseSubnet, release } = claimBaseSubnet();
  unreleased.add(release);
  const env: NodeJS.ProcessEnv = { ...process.env, CILO_HOME: home, CILO_DNS_PORT: String(dnsPort), CILO_BASE_SUBNET: baseSubnet };
  delete env.CILO_DEBUG;
  return {
    home,
    env,
    dnsPort,
    baseSubnet,
    cli: (args, opts = {}) => runCli(args, { ...opts, env: { ...env, ...(opts.env ?? {}) } }),
    cleanup: async () => {
      // Its processes (the DNS server, the dashboard, a CLI a timed-out test left running), then
      // everything labelled with its id or its projects, then the directory.
      unlessStopped();
      removeHome(home);
      forgetHome(home);
      release();
      unreleased.delete(release);
    },
  };
}

/** Removes everything labelled with this cilo project (tests use unique project names). */
export async function removeProjectResources(project: string): Promise<void> {
  removeProjectResourcesOf(project);
}

export const FIXTURES = join(ROOT, 'test', 'fixtures');

/**
 * A fresh temporary copy of the project `test/fixtures/<name>/` (its compose files and
 * whatever else it holds, modes and symlinks kept), with `extra` files (relative path to
 * content) written into it: a test's own variation, such as a `.env` or files to be copied.
 * The compose model itself always comes from the fixture.
 */
export function copyFixture(name: string, extra: Record<string, string> = {}): string {
  const src = join(FIXTURES, name);
  if (!existsSync(src)) throw new Error(`There is no fixture project ${src}.`);
  const dir = mkdtempSync(join(tmpdir(), `cilo-${basename(name)}-`));
  cpSync(src, dir, { recursive: true, verbatimSymlinks: true });
  for (const [rel, content] of Object.entries(extra)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

/**
 * The usual end of a suite: destroy what the home still has, stop its DNS server, remove
 * anything labelled with the project (containers, networks, volumes, shared ones too) and the
 * temporary project directories.
 */
export async function tearDown(h: TestHome, project: string, ...dirs: string[]): Promise<void> {
  await h.cli(['destroy', '--all', '--force']).catch(() => undefined);
  await h.cleanup();
  await removeProjectResources(project);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Changes a home's state as a cilo process would: under its lock (the DNS supervisor writes too). */
export async function editState(h: TestHome, fn: (s: State) => void): Promise<void> {
  await withStateLock(fn, ciloPaths(h.home));
}

export interface DoctorJson {
  ok: boolean;
  findings: { kind: string; subject: string; message: string; fixed?: boolean; needs_force?: boolean }[];
}

/** `cilo doctor --json [args]` of a home (exit 0 or 1: problems found are not a failure here). */
export async function doctorJson(h: TestHome, ...args: string[]): Promise<DoctorJson> {
  const r = await h.cli(['doctor', '--json', ...args]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`cilo doctor exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DoctorJson;
}

/** Runs git in `dir` (C locale) and returns its trimmed stdout; a failure throws with git's message. */
export function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice: ports given to tests by the range of no one else). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}
