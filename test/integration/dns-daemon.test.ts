/**
 * The DNS server as a background process, through the built CLI: start/stop/status, stale pid
 * files, a taken port, concurrent starts, and the system resolver setup (under CILO_SYSTEM_ROOT).
 */
import { afterEach, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ciloPaths } from '../../src/state/paths.js';
import { withStateLock } from '../../src/state/store.js';
import { ask, resolveA } from '../support/dns-query.js';
import { makeHome, waitFor, type TestHome } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function home(): TestHome {
  const h = makeHome();
  cleanups.push(() => h.cleanup());
  return h;
}

function json<T>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

interface Status {
  running: boolean;
  pid: number | null;
  port: number;
  address: string;
  answering: boolean;
  log: string;
}

const pidFile = (h: TestHome): string => join(h.home, 'dns', 'dns.pid');
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
function exited(pid: number): boolean {
  if (!alive(pid)) return true;
  // A dead child of init may linger as a zombie for a moment: count it as gone.
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Waits until process `pid` has exited; fails naming `what` it is. */
const gone = (pid: number, what: string): Promise<unknown> => waitFor(() => exited(pid), { what: `${what} (pid ${pid}) to exit` });

/** An unrelated long-lived process, killed after the test. */
function unrelated(): ChildProcess {
  const p = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanups.push(() => {
    p.kill('SIGKILL');
  });
  return p;
}

test('start answers, a second start is a no-op, status --json has the documented shape, stop stops it', async () => {
  const h = home();
  const first = await h.cli(['dns', 'start', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const started = json<{ started: boolean; pid: number; port: number; address: string }>(first.stdout);
  assert.equal(started.started, true);
  assert.equal(started.port, h.dnsPort);
  assert.equal(started.address, '127.0.0.1');
  assert.equal(Number(readFileSync(pidFile(h), 'utf8').trim()), started.pid);

  const again = await h.cli(['dns', 'start', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(json<{ started: boolean; pid: number }>(again.stdout).started, false);
  assert.equal(json<{ pid: number }>(again.stdout).pid, started.pid);

  const st = await h.cli(['dns', 'status', '--json']);
  assert.equal(st.code, 0, st.stderr);
  assert.deepEqual(json<Status>(st.stdout), { running: true, pid: started.pid, port: h.dnsPort, address: '127.0.0.1', answering: true, log: join(h.home, 'dns', 'dns.log') });
  const nx = await ask({ port: h.dnsPort, name: 'nothing.test' });
  assert.deepEqual([nx.rcode, nx.aa, nx.answers.length], ['NXDOMAIN', true, 0], 'answers, authoritatively');

  const stop = await h.cli(['dns', 'stop', '--json']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(json(stop.stdout), { stopped: true, pid: started.pid, stale_pid_file: false, warnings: [] });
  await gone(started.pid, 'the stopped server');
  assert.equal(existsSync(pidFile(h)), false);
  assert.match(readFileSync(join(h.home, 'dns', 'dns.log'), 'utf8'), /stopped \(SIGTERM\)/);
  await assert.rejects(ask({ port: h.dnsPort, name: 'nothing.test', timeoutMs: 300 }), /no reply/);

  const after = await h.cli(['dns', 'status', '--json']);
  assert.deepEqual(json<Status>(after.stdout), { running: false, pid: null, port: h.dnsPort, address: '127.0.0.1', answering: false, log: join(h.home, 'dns', 'dns.log') });
  const stopAgain = await h.cli(['dns', 'stop']);
  assert.equal(stopAgain.code, 0, stopAgain.stderr);
  assert.match(stopAgain.stdout, /not running/);
});

test('plain-text output of start, status and stop', async () => {
  const h = home();
  const start = await h.cli(['dns', 'start']);
  assert.match(start.stdout, new RegExp(`DNS server started on 127\\.0\\.0\\.1:${h.dnsPort} \\(pid \\d+\\)\\.`));
  const status = await h.cli(['dns', 'status']);
  assert.match(status.stdout, new RegExp(`running \\(pid \\d+\\) on 127\\.0\\.0\\.1:${h.dnsPort}, answering`));
  const stop = await h.cli(['dns', 'stop']);
  assert.match(stop.stdout, /DNS server stopped \(pid \d+\)\./);
});

test('a stale pid file naming an unrelated live process is not trusted, and that process is never signalled', async () => {
  const h = home();
  const sleeper = unrelated();
  const sleeperPid = sleeper.pid ?? 0;
  await withStateLock(() => undefined, ciloPaths(h.home)); // creates the home and its dns/ directory
  // Forge both files, with a plausible token, as a crashed server and a recycled pid would leave them.
  writeFileSync(pidFile(h), `${sleeperPid}\n`);
  writeFileSync(join(h.home, 'dns', 'dns.json'), JSON.stringify({ pid: sleeperPid, port: h.dnsPort, token: 'deadbeefdeadbeef', started_at: '' }));

  const st = json<Status>((await h.cli(['dns', 'status', '--json'])).stdout);
  assert.equal(st.running, false);
  assert.equal(st.pid, null);

  const stop = await h.cli(['dns', 'stop', '--json']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(json(stop.stdout), { stopped: false, pid: null, stale_pid_file: true, warnings: [] });
  assert.equal(sleeper.exitCode, null);
  assert.equal(sleeper.signalCode, null);
  assert.ok(alive(sleeperPid), 'the unrelated process was killed');
  assert.equal(existsSync(pidFile(h)), false, 'the stale pid file is still there');

  // The test process's own pid in the pid file: stop and start must leave us alone.
  writeFileSync(pidFile(h), `${process.pid}\n`);
  assert.equal((await h.cli(['dns', 'stop'])).code, 0);
  writeFileSync(pidFile(h), `${sleeperPid}\n`);
  const start = await h.cli(['dns', 'start', '--json']);
  assert.equal(start.code, 0, start.stderr);
  const s = json<{ started: boolean; pid: number }>(start.stdout);
  assert.equal(s.started, true);
  assert.notEqual(s.pid, sleeperPid);
  assert.notEqual(s.pid, process.pid);
  assert.ok(alive(sleeperPid));
  assert.equal(sleeper.signalCode, null);
});

test('a server killed with SIGKILL leaves a pid file that is recognised as stale', async () => {
  const h = home();
  const first = json<{ pid: number }>((await h.cli(['dns', 'start', '--json'])).stdout);
  process.kill(first.pid, 'SIGKILL');
  await gone(first.pid, 'the killed server');
  assert.equal(existsSync(pidFile(h)), true);
  assert.equal(json<Status>((await h.cli(['dns', 'status', '--json'])).stdout).running, false);
  const second = await h.cli(['dns', 'start', '--json']);
  assert.equal(second.code, 0, second.stderr);
  const s = json<{ started: boolean; pid: number }>(second.stdout);
  assert.equal(s.started, true);
  assert.notEqual(s.pid, first.pid);
});

async function takeUdp(port: number): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve());
  });
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

async function takeTcp(port: number): Promise<Server> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

for (const proto of ['UDP', 'TCP'] as const) {
  test(`a port already taken (${proto}) fails the start with a message naming the port, and leaves no pid file`, async () => {
    const h = home();
    if (proto === 'UDP') await takeUdp(h.dnsPort);
    else await takeTcp(h.dnsPort);
    const r = await h.cli(['dns', 'start']);
    assert.equal(r.code, 1, `start succeeded: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`^cilo: Port ${h.dnsPort} on 127\\.0\\.0\\.1 is already in use \\(${proto}\\)`));
    assert.match(r.stderr, /hint: .*cilo init --dns-port N/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'printed a stack trace');
    assert.equal(r.stdout, '');
    assert.equal(existsSync(pidFile(h)), false);
    assert.equal(existsSync(join(h.home, 'dns', 'dns.json')), false);
    assert.equal(json<Status>((await h.cli(['dns', 'status', '--json'])).stdout).running, false);
  });
}

test('parallel starts end with exactly one server', async () => {
  const h = home();
  const results = await Promise.all(Array.from({ length: 4 }, () => h.cli(['dns', 'start', '--json'])));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const pids = new Set(results.map((r) => json<{ pid: number }>(r.stdout).pid));
  assert.equal(pids.size, 1, `several servers: ${[...pids].join(', ')}`);
  assert.equal(results.filter((r) => json<{ started: boolean }>(r.stdout).started).length, 1);
});

test('a changed dns_port moves the server to the new port', async () => {
  const h = home();
  const first = json<{ pid: number }>((await h.cli(['dns', 'start', '--json'])).stdout);
  const newPort = h.dnsPort + 1;
  await withStateLock((s) => {
    s.dns_port = newPort;
    s.environments.e1 = {
      name: 'e1',
      project: `p${process.pid}`,
      source: '/x',
      workspace: '/x',
      subnet: '10.231.50.0/24',
      dns_suffix: '.test',
      status: 'running',
      created_at: '',
      updated_at: '',
      services: { web: { ip: '10.231.50.2', type: 'isolated' } },
      ingress: 'web',
      hostnames: [],
      shared: [],
    };
  }, ciloPaths(h.home));
  cleanups.push(() => withStateLock((s) => void (s.environments = {}), ciloPaths(h.home)).catch(() => undefined));
  const r = await h.cli(['dns', 'start', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const second = json<{ started: boolean; pid: number; port: number }>(r.stdout);
  assert.equal(second.started, true);
  assert.equal(second.port, newPort);
  await gone(first.pid, 'the server on the old port');
  assert.deepEqual(await resolveA(newPort, 'web.e1.test'), ['10.231.50.2']);
});

test('dns setup writes the systemd-resolved drop-in, --print-manual only prints, uninstall removes it', async () => {
  const h = home();
  const root = mkdtempSync(join(tmpdir(), 'cilo-sysroot-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const env = { CILO_SYSTEM_ROOT: root };
  const dropIn = join(root, 'etc', 'systemd', 'resolved.conf.d', 'cilo.conf');

  const manual = await h.cli(['dns', 'setup', '--print-manual'], { env });
  assert.equal(manual.code, 0, manual.stderr);
  assert.match(manual.stdout, new RegExp(`DNS=127\\.0\\.0\\.1:${h.dnsPort}`));
  assert.match(manual.stdout, /Domains=~test/);
  assert.match(manual.stdout, /systemctl restart systemd-resolved/);
  assert.equal(existsSync(dropIn), false, '--print-manual wrote a file');

  const setup = await h.cli(['dns', 'setup'], { env });
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stdout, /Wrote .*cilo\.conf/);
  const text = readFileSync(dropIn, 'utf8');
  assert.match(text, /^\[Resolve\]$/m);
  assert.match(text, new RegExp(`^DNS=127\\.0\\.0\\.1:${h.dnsPort}$`, 'm'));
  assert.match(text, /^Domains=~test$/m);

  const more = await h.cli(['dns', 'setup', '--dns-suffix', '.dev.local', '--json'], { env });
  assert.equal(more.code, 0, more.stderr);
  assert.deepEqual(json<{ suffixes: string[] }>(more.stdout).suffixes, ['dev.local', 'test']);
  assert.match(readFileSync(dropIn, 'utf8'), /^Domains=~dev\.local ~test$/m);
  // Running setup again keeps the suffix added before.
  await h.cli(['dns', 'setup'], { env });
  assert.match(readFileSync(dropIn, 'utf8'), /^Domains=~dev\.local ~test$/m);

  const bad = await h.cli(['dns', 'setup', '--dns-suffix', '../../etc'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a valid domain/);

  const un = await h.cli(['dns', 'uninstall'], { env });
  assert.equal(un.code, 0, un.stderr);
  assert.match(un.stdout, /Removed .*cilo\.conf/);
  assert.equal(existsSync(dropIn), false);
  const again = await h.cli(['dns', 'uninstall'], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Nothing to remove/);
});

test('init says to run dns setup while the system resolver does not send .test to cilo, and not once it does', async () => {
  const h = home();
  const root = mkdtempSync(join(tmpdir(), 'cilo-sysroot-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const env = { CILO_SYSTEM_ROOT: root };
  const before = await h.cli(['init'], { env });
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stdout, /do not resolve on this machine yet: run `sudo cilo dns setup`/);
  const beforeJson = await h.cli(['init', '--json'], { env });
  assert.equal(json<{ system_resolver: boolean }>(beforeJson.stdout).system_resolver, false);
  const setup = await h.cli(['dns', 'setup'], { env });
  assert.equal(setup.code, 0, setup.stderr);
  const after = await h.cli(['init'], { env });
  assert.equal(after.code, 0, after.stderr);
  assert.doesNotMatch(after.stdout, /dns setup/);
  assert.equal(json<{ system_resolver: boolean }>((await h.cli(['init', '--json'], { env })).stdout).system_resolver, true);
});

test('dns serve is hidden from help', async () => {
  const h = home();
  const help = await h.cli(['dns', '--help']);
  for (const c of ['start', 'stop', 'status', 'setup', 'uninstall']) assert.match(help.stdout, new RegExp(`\\b${c}\\b`));
  assert.doesNotMatch(help.stdout, /\bserve\b/);
});
