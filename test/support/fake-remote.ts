/**
 * A fake remote machine on this one (test/support/fake-remote.sh does the work): a network
 * namespace joined by a veth pair on 192.0.2.0/24 (a documentation range), its own mount
 * namespace with a second dockerd (own engine ID, socket, data root and address pool) and an
 * sshd with generated keys. `stop()` removes all of it, also after a half-done start.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forgetHome, OWNERS_DIR, recordHome, stopFakeRemote, whenStopped } from './sweep.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fake-remote.sh');

/** What the fake machine needs here, by program, and the Debian package that brings it. */
const NEEDED: Record<string, string> = {
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  ssh: 'openssh-client',
  'wireguard-go': 'wireguard-go',
  wg: 'wireguard-tools',
  rsync: 'rsync',
  nsenter: 'util-linux',
  unshare: 'util-linux',
  iptables: 'iptables',
};

function found(program: string): boolean {
  return ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin'].some((d) => existsSync(join(d, program)));
}

/**
 * Why the fake remote cannot be made here (undefined: it can). As root with apt-get, missing
 * packages are installed first (the same line as in .ci/run).
 */
export function fakeRemoteUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'it needs Linux namespaces';
  if (process.getuid?.() !== 0) return 'it needs root (network and mount namespaces, a second dockerd, WireGuard)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing (wireguard-go needs it)';
  let missing = Object.keys(NEEDED).filter((p) => !found(p));
  if (missing.length > 0 && existsSync('/usr/bin/apt-get')) {
    const pkgs = [...new Set(missing.map((p) => NEEDED[p] as string))];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'ignore', env });
    missing = Object.keys(NEEDED).filter((p) => !found(p));
  }
  if (missing.length > 0) return `missing programs: ${missing.join(', ')} (packages ${[...new Set(missing.map((p) => NEEDED[p]))].join(' ')})`;
  return undefined;
}

export interface FakeRemote {
  dir: string;
  /** The machine's address (sshd listens there). */
  ip: string;
  ns: string;
  /** This machine's end of the veth pair. */
  link: string;
  /** The private key that logs in as root. */
  identity: string;
  /** The SHA256 fingerprint of its SSH host key. */
  hostKeyFingerprint: string;
  dockerdPid: number;
  /** `docker ...` against the machine's own engine (from inside its namespaces). */
  docker(args: string[], input?: Buffer): SpawnSyncReturns<string>;
  /** A shell command on the machine, as root, in its namespaces. */
  sh(command: string): SpawnSyncReturns<string>;
  /** PIDs of every process in the machine's mount namespace. */
  processes(): number[];
  /** Full IDs of the containers its engine has now (running or not). */
  containerIds(): string[];
  stop(): void;
}

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** What ends each machine if the test process is told to stop before its stop() (see sweep.ts whenStopped). */
const unlessStopped = new Map<string, () => void>();

export function startFakeRemote(): FakeRemote {
  const id = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  // Outside /tmp: the machine gets a private /tmp, so cilo's local workspaces are not there.
  const dir = mkdtempSync('/var/tmp/cilo-rt-');
  // Recorded like a test home: a killed or cancelled test process leaves it to the sweep.
  recordHome(dir, OWNERS_DIR, 'fake-remote');
  unlessStopped.set(dir, whenStopped(() => stopFakeRemote(dir)));
  const idx = 8 + Math.floor(Math.random() * 48);
  const fake = describe(dir);
  const r = run(['up', dir, id, String(idx)]);
  if (r.status !== 0) {
    fake.stop();
    throw new Error(`the fake remote did not start: ${r.stderr}`);
  }
  return describe(dir);
}

function readEnv(dir: string): Record<string, string> {
  const file = join(dir, 'env');
  if (!existsSync(file)) return {};
  return Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string]));
}

function describe(dir: string): FakeRemote {
  const env = readEnv(dir);
  const pid = (name: string): number => (existsSync(join(dir, name)) ? Number(readFileSync(join(dir, name), 'utf8').trim()) : 0);
  const dockerdPid = pid('dockerd.pid');
  const fp = existsSync(join(dir, 'ssh', 'host_key.pub')) ? spawnSync('ssh-keygen', ['-lf', join(dir, 'ssh', 'host_key.pub')], { encoding: 'utf8' }).stdout.split(' ')[1] ?? '' : '';
  const mntOf = (p: number): string | undefined => {
    try {
      return readlinkSync(`/proc/${p}/ns/mnt`);
    } catch {
      return undefined;
    }
  };
  const innerMnt = mntOf(pid('inner.pid'));
  return {
    dir,
    ip: env.remote_ip ?? '',
    ns: env.ns ?? '',
    link: env.vh ?? '',
    identity: join(dir, 'ssh', 'id'),
    hostKeyFingerprint: fp,
    dockerdPid,
    docker: (args, input) => spawnSync('nsenter', ['-t', String(dockerdPid), '-m', '-n', 'docker', '-H', 'unix:///run/docker.sock', ...args], { encoding: 'utf8', input, timeout: 60_000, maxBuffer: 1 << 30 }),
    sh: (command) => spawnSync('nsenter', ['-t', String(dockerdPid), '-m', '-n', 'sh', '-c', command], { encoding: 'utf8', timeout: 30_000 }),
    processes: () => {
      if (!innerMnt) return [];
      return readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map(Number)
        .filter((p) => mntOf(p) === innerMnt);
    },
    containerIds: () =>
      spawnSync('nsenter', ['-t', String(dockerdPid), '-m', '-n', 'docker', '-H', 'unix:///run/docker.sock', 'ps', '-aq', '--no-trunc'], { encoding: 'utf8', timeout: 30_000 })
        .stdout.split('\n')
        .filter((l) => l.trim() !== ''),
    stop: () => {
      unlessStopped.get(dir)?.();
      unlessStopped.delete(dir);
      run(['down', resolve(dir)]);
      forgetHome(dir);
    },
  };
}

/** PIDs of processes still in the cgroup of one of these containers (containers run in their own mount namespaces). */
export function processesOfContainers(ids: string[]): number[] {
  if (ids.length === 0) return [];
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cg = readFileSync(`/proc/${p}/cgroup`, 'utf8');
        return ids.some((id) => cg.includes(id));
      } catch {
        return false;
      }
    })
    .map(Number);
}
