/**
 * `cilo host add` and a host's connection against a fake remote machine (test/support/fake-remote.ts):
 * a key the user's own SSH already trusts (its known_hosts, found through $HOME, here a temporary
 * directory: the real ~/.ssh is never read) is accepted without --accept-host-key, saying so, and a
 * different one is refused; a failed add leaves nothing behind (the key it trusted, hosts/<name>/,
 * the record); a SOCKS port something else listens on when the connection is made again is
 * replaced, recorded and shown. Skipped, with the reason printed, where the fake machine cannot be made.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeRemoteUnavailable, startFakeRemote, type FakeRemote } from '../support/fake-remote.js';
import { makeHome, type CliResult, type TestHome } from './helpers.js';

const skip = fakeRemoteUnavailable();
if (skip) console.log(`# remote-trust.test.ts skipped: ${skip}`);

let h: TestHome;
let fake: FakeRemote;
/** $HOME of every CLI run here: its .ssh/known_hosts is "the user's own". */
let userHome: string;

function cli(args: string[]): Promise<CliResult> {
  return h.cli(args, { env: { HOME: userHome } });
}

function ciloKnownHosts(): string {
  const file = join(h.home, 'hosts', 'known_hosts');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function hostsOfState(): Record<string, { socks_port?: number }> {
  if (!existsSync(join(h.home, 'state.json'))) return {};
  return (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { hosts?: Record<string, { socks_port?: number }> }).hosts ?? {};
}

/** The user's known_hosts with these lines, hashed as Debian's ssh does by default (HashKnownHosts). */
function writeUserKnownHosts(lines: string[]): string {
  const file = join(userHome, '.ssh', 'known_hosts');
  mkdirSync(join(userHome, '.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  const r = spawnSync('ssh-keygen', ['-H', '-f', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  rmSync(`${file}.old`, { force: true });
  return file;
}

/** A new key pair in a temporary directory: its private key file and its public key (`type base64`). */
function newKey(): { identity: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cilo-rt-key-'));
  const identity = join(dir, 'id');
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identity], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { identity, publicKey: readFileSync(`${identity}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ') };
}

function assertNothingLeft(name: string): void {
  assert.equal(existsSync(join(h.home, 'hosts', name)), false, `hosts/${name}/ is removed`);
  assert.equal(hostsOfState()[name], undefined, `no record of ${name}`);
}

/** Host "box" added (with --accept-host-key when an earlier test did not add it). */
async function ensureBox(): Promise<void> {
  if (hostsOfState().box) return;
  const r = await cli(['host', 'add', 'box', `ssh://root@${fake.ip}`, '-i', fake.identity, '--accept-host-key', fake.hostKeyFingerprint]);
  assert.equal(r.code, 0, r.stderr);
}

/** A SOCKS5 greeting (no authentication) to 127.0.0.1:port; resolves with the server's 2-byte answer. */
function socksGreeting(port: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setTimeout(10_000, () => s.destroy(new Error(`no SOCKS5 answer on port ${port}`)));
    s.on('error', reject);
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.once('data', (d: Buffer) => {
      resolve([...d]);
      s.destroy();
    });
  });
}

describe('remote hosts: trust, a failed add, the SOCKS port', { skip }, () => {
  before(() => {
    h = makeHome();
    userHome = mkdtempSync(join(tmpdir(), 'cilo-rt-user-'));
    fake = startFakeRemote();
  });
  after(async () => {
    if (h) {
      await cli(['host', 'rm', 'box']).catch(() => undefined);
      await h.cleanup().catch(() => undefined);
    }
    fake?.stop();
    if (userHome) rmSync(userHome, { recursive: true, force: true });
  });

  test('a host add that fails after trusting the key (the login is refused) leaves no key, no hosts/<name>/, no record', async () => {
    const stranger = newKey();
    const r = await cli(['host', 'add', 'box', `ssh://root@${fake.ip}`, '-i', stranger.identity, '--accept-host-key', fake.hostKeyFingerprint]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot reach ssh:\/\/root@192\.0\.2\.\d+ over SSH/);
    assert.equal(ciloKnownHosts().includes(fake.ip), false, `the key it trusted is removed again: ${ciloKnownHosts()}`);
    assertNothingLeft('box');
  });

  test("a key other than the one the user's own known_hosts lists for the host is refused, naming that file", async () => {
    const file = writeUserKnownHosts([`${fake.ip} ${newKey().publicKey}`]);
    const r = await cli(['host', 'add', 'box', `ssh://root@${fake.ip}`, '-i', fake.identity]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`not the one ${file} lists for it`), r.stderr);
    assert.equal(ciloKnownHosts().includes(fake.ip), false);
    assertNothingLeft('box');
  });

  test("a key the user's own known_hosts lists is trusted without --accept-host-key, and add says so in one line", async () => {
    const hostKey = readFileSync(join(fake.dir, 'ssh', 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const file = writeUserKnownHosts([`${fake.ip} ${hostKey}`]);
    const r = await cli(['host', 'add', 'box', `ssh://root@${fake.ip}`, '-i', fake.identity]);
    assert.equal(r.code, 0, r.stderr);
    const said = r.stderr.split('\n').filter((l) => l.includes(file));
    assert.deepEqual(said, [`Trusted the SSH host key of ssh://root@${fake.ip}: ${file} already lists it.`], r.stderr);
    assert.ok(ciloKnownHosts().includes(`${fake.ip} ${hostKey}`), 'cilo trusts that key from now on');
    assert.match(r.stdout, /^Added host box /);
  });

  test('a duplicate engine: the failed add leaves no hosts/<name>/ and keeps the key the first host uses', async () => {
    await ensureBox();
    const known = ciloKnownHosts();
    const r = await cli(['host', 'add', 'again', `ssh://root@${fake.ip}`, '-i', fake.identity]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /is the one of host "box"/);
    assertNothingLeft('again');
    assert.equal(ciloKnownHosts(), known, "box's key is not its to remove");
    assert.equal((await cli(['host', 'status', 'box'])).code, 0, 'box still answers');
  });

  test('a SOCKS port another program listens on when the connection is made again is replaced, recorded and shown', async () => {
    await ensureBox();
    const before = hostsOfState().box?.socks_port;
    assert.ok(before, 'box has a SOCKS port');
    // End the connection (through its control socket), then take its port.
    const ctl = join(h.home, 'hosts', 'box', 'ssh.ctl');
    spawnSync('ssh', ['-F', '/dev/null', '-o', `ControlPath=${ctl}`, '-O', 'exit', `root@${fake.ip}`], { encoding: 'utf8' });
    const squatter: Server = createServer((s) => s.end());
    await new Promise<void>((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen(before, '127.0.0.1', () => resolve());
    });
    try {
      const r = await cli(['host', 'status', 'box', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { reachable: boolean; socks: string };
      assert.equal(s.reachable, true);
      const now = hostsOfState().box?.socks_port;
      assert.ok(now && now !== before, `a new port is recorded (was ${before}, now ${now})`);
      assert.equal(s.socks, `127.0.0.1:${now}`, 'status shows the port in use now');
      assert.ok(r.stderr.includes(`127.0.0.1:${before} is taken by another program, so the SOCKS5 proxy of host box now listens on 127.0.0.1:${now}`), r.stderr);
      assert.deepEqual(await socksGreeting(now), [5, 0], 'the proxy answers there');
      const again = await cli(['host', 'status', 'box', '--json']);
      assert.equal(again.stderr.includes('taken by another program'), false, 'said once: the next command reuses the connection');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});
