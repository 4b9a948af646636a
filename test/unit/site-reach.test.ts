// The one rule for an engine that does not answer (src/core/sites/reach.ts), through askSite and
// askEachSite with stand-in hosts (test/support/stand-in.ts): a silent or unreachable host is an
// answer naming it, its connection dropped; any other failure is thrown; this machine's engine
// failing is thrown unless the caller tolerates it. Deadlines are made short by the options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { askEachSite, askSite } from '../../src/core/sites/reach.js';
import { CiloError } from '../../src/errors.js';
import { seedHost, standInContext, standInPorts, type StandIn } from '../support/stand-in.js';

const SHORT = { reachMs: 30, askMs: 30 };

function home(t: { after: (fn: () => void) => void }): StandIn {
  const s = standInContext();
  t.after(s.cleanup);
  return s;
}

test('a host silent past the reach deadline is an answer naming it, and its connection is dropped', async (t) => {
  const s = home(t);
  await seedHost(s.ctx, 'far');
  s.remote.hosts.set('far', { kind: 'silent' });
  let asked = false;
  const a = await askSite(s.ctx, { host: 'far' }, async () => (asked = true), SHORT);
  assert.equal(a.ok, false);
  if (a.ok) return;
  assert.equal(a.label, 'host far');
  assert.deepEqual(a.at, { host: 'far' });
  assert.equal(a.error.code, 'HOST_UNREACHABLE');
  assert.match(a.problem, /^Host far did not answer within/);
  assert.equal(asked, false, 'never asked');
  assert.deepEqual(s.remote.disconnects, ['far']);
});

test('a host whose engine does not answer its ping is silent too: its site is forgotten', async (t) => {
  const s = home(t);
  await seedHost(s.ctx, 'far');
  s.remote.hosts.set('far', { kind: 'silent-engine', ports: standInPorts() });
  const a = await askSite(s.ctx, { host: 'far' }, async () => 1, SHORT);
  assert.equal(a.ok, false);
  assert.deepEqual(s.remote.disconnects, ['far']);
});

test('a question a reached host does not answer within askMs is an answer naming the host', async (t) => {
  const s = home(t);
  await seedHost(s.ctx, 'slow');
  s.remote.hosts.set('slow', { kind: 'answers', ports: standInPorts() });
  const a = await askSite(s.ctx, { host: 'slow' }, () => new Promise<number>(() => undefined), SHORT);
  assert.equal(a.ok, false);
  if (a.ok) return;
  assert.match(a.problem, /^Host slow did not answer/);
  assert.deepEqual(s.remote.disconnects, ['slow']);
});

for (const code of ['HOST_UNREACHABLE', 'DOCKER_UNREACHABLE'] as const) {
  test(`a host that fails with ${code} is an answer, its connection dropped`, async (t) => {
    const s = home(t);
    await seedHost(s.ctx, 'gone');
    s.remote.hosts.set('gone', { kind: 'fails', error: new CiloError(code, 'cannot reach gone') });
    const a = await askSite(s.ctx, { host: 'gone' }, async () => 1, SHORT);
    assert.equal(a.ok, false);
    if (a.ok) return;
    assert.equal(a.problem, 'cannot reach gone');
    assert.equal(a.error.code, code);
    assert.deepEqual(s.remote.disconnects, ['gone']);
  });
}

test('a host the state does not know is an answer (HOST_NOT_FOUND)', async (t) => {
  const s = home(t);
  const a = await askSite(s.ctx, { host: 'nowhere' }, async () => 1, SHORT);
  assert.equal(a.ok, false);
  if (a.ok) return;
  assert.equal(a.error.code, 'HOST_NOT_FOUND');
});

test('any other failure of a host, or of the question, is thrown, not swallowed', async (t) => {
  const s = home(t);
  await seedHost(s.ctx, 'broken');
  await seedHost(s.ctx, 'near', 2);
  s.remote.hosts.set('broken', { kind: 'fails', error: new Error('a bug in the SSH adapter') });
  s.remote.hosts.set('near', { kind: 'answers', ports: standInPorts() });
  await assert.rejects(askSite(s.ctx, { host: 'broken' }, async () => 1, SHORT), /a bug in the SSH adapter/);
  await assert.rejects(
    askSite(s.ctx, { host: 'near' }, async () => {
      throw new CiloError('SHARED_CONFLICT', 'a refusal');
    }),
    (e: unknown) => e instanceof CiloError && e.code === 'SHARED_CONFLICT',
  );
  assert.deepEqual(s.remote.disconnects, [], 'a connection that answered is kept');
});

test("this machine's engine not answering is thrown, unless the caller tolerates it", async (t) => {
  const s = home(t);
  s.local.docker.ping = async () => {
    throw new CiloError('DOCKER_UNREACHABLE', 'Cannot reach the Docker engine.');
  };
  await assert.rejects(
    askSite(s.ctx, {}, (site) => site.docker.ping()),
    (e: unknown) => e instanceof CiloError && e.code === 'DOCKER_UNREACHABLE',
  );
  const a = await askSite(s.ctx, {}, (site) => site.docker.ping(), { tolerateLocal: true });
  assert.equal(a.ok, false);
  if (a.ok) return;
  assert.equal(a.label, 'this machine');
  assert.deepEqual(a.at, {});
  assert.deepEqual(s.remote.disconnects, []);
});

test('askEachSite asks each distinct site once: answers from those that answer, the silent one named', async (t) => {
  const s = home(t);
  await seedHost(s.ctx, 'far');
  await seedHost(s.ctx, 'near', 2);
  const near = standInPorts();
  near.docker.addContainer({ name: 'on-near' });
  s.local.docker.addContainer({ name: 'on-local' });
  s.remote.hosts.set('far', { kind: 'silent' });
  s.remote.hosts.set('near', { kind: 'answers', ports: near });
  const records = [{ host: 'near' }, { host: 'far' }, {}, { host: 'near' }, {}];
  const answers = await askEachSite(s.ctx, records, async (site) => (await site.docker.listContainers()).map((c) => c.Names[0]), SHORT);
  assert.deepEqual([...answers.keys()].sort(), ['', 'far', 'near']);
  const value = (k: string): unknown => {
    const a = answers.get(k);
    return a?.ok ? a.value : a?.problem;
  };
  assert.deepEqual(value(''), ['/on-local']);
  assert.deepEqual(value('near'), ['/on-near']);
  assert.match(String(value('far')), /^Host far did not answer/);
  assert.deepEqual(s.remote.connects.sort(), ['far', 'near'], 'each host connected once');
  assert.deepEqual(s.remote.disconnects, ['far']);
});
