// Shared services' rules, through the real core functions over a stand-in engine and clock
// (test/support/stand-in.ts): one container for many users, reference counting in the state
// file, the grace period and its reaping, a changed definition refused, and destroy of one user.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { destroyEnvironment } from '../../src/core/environments/destroy.js';
import { checkSharedDefinition, ensureShared, reapExpiredShared, releaseShared, type EnsureSharedInput } from '../../src/core/shared/shared.js';
import type { SiteContext } from '../../src/core/sites/site.js';
import { composeProjectName, LABELS, networkName, sharedContainerName } from '../../src/domain/names.js';
import { definitionHash, type SharedDefinition } from '../../src/domain/shared.js';
import { sharedKey, type EnvironmentState } from '../../src/domain/state.js';
import { CiloError } from '../../src/errors.js';
import { readState } from '../../src/state/store.js';
import { seedEnvironment, standInContext, standInSite, type StandIn } from '../support/stand-in.js';

const GRACE_S = 60;
const db = sharedContainerName('app', 'db');
const key = sharedKey('app', 'db');

function definition(image: string, env: Record<string, string> = { POSTGRES_PASSWORD: 'x' }): SharedDefinition {
  return { service: { image, environment: env }, volumes: {} };
}

function input(env: EnvironmentState, def: SharedDefinition, n: number): EnsureSharedInput {
  return { project: 'app', service: 'db', def, hash: definitionHash(def), graceSeconds: GRACE_S, env, ip: `10.224.${n}.5`, recreate: false, timeoutMs: 10_000 };
}

/** A stand-in home with environments e1, e2 (their networks made), and the context on this machine's stand-in site. */
async function twoEnvironments(t: { after: (fn: () => void) => void }): Promise<{ s: StandIn; ctx: SiteContext; e1: EnvironmentState; e2: EnvironmentState }> {
  const s = standInContext();
  t.after(s.cleanup);
  const e1 = await seedEnvironment(s.ctx, 'e1', { n: 1, status: 'running' });
  const e2 = await seedEnvironment(s.ctx, 'e2', { n: 2, status: 'running' });
  for (const e of [e1, e2]) s.local.docker.addNetwork(networkName(e.project, e.name), {}, e.subnet);
  return { s, ctx: { ...s.ctx, site: standInSite(s.local) }, e1, e2 };
}

test('two environments share one container; the last release starts the grace period; the reaper removes it only once the clock passes it', async (t) => {
  const { s, ctx, e1, e2 } = await twoEnvironments(t);
  const def = definition('postgres:15');

  const first = await ensureShared(ctx, input(e1, def, 1));
  const second = await ensureShared(ctx, input(e2, def, 2));
  assert.equal(first.action, 'created');
  assert.equal(second.action, 'reused');
  assert.equal(s.local.compose.ups.length, 1, 'compose made the container once');
  const shared = [...s.local.docker.containers.values()].filter((c) => c.labels[LABELS.shared] === 'true');
  assert.deepEqual(shared.map((c) => c.name), [db]);
  assert.deepEqual([...(s.local.docker.byName(db)?.networks.keys() ?? [])].sort(), [networkName('app', 'e1'), networkName('app', 'e2')]);
  let rec = readState(ctx.paths).shared_services[key];
  assert.deepEqual(rec?.users, ['e1', 'e2']);
  assert.deepEqual(rec?.ips, { e1: '10.224.1.5', e2: '10.224.2.5' });
  assert.deepEqual(readState(ctx.paths).environments.e1?.shared, ['db']);

  await releaseShared(ctx, e1, ['db']);
  rec = readState(ctx.paths).shared_services[key];
  assert.deepEqual(rec?.users, ['e2']);
  assert.equal(rec?.grace_until, null);
  assert.equal(s.local.docker.byName(db)?.state, 'running');
  assert.deepEqual([...(s.local.docker.byName(db)?.networks.keys() ?? [])], [networkName('app', 'e2')], 'detached from the released network only');
  assert.deepEqual(readState(ctx.paths).environments.e1?.shared, []);

  await releaseShared(ctx, e2, ['db']);
  rec = readState(ctx.paths).shared_services[key];
  assert.deepEqual(rec?.users, []);
  assert.equal(rec?.grace_until, new Date(s.clock.now() + GRACE_S * 1000).toISOString(), 'grace ends grace_seconds after the clock');
  assert.equal(s.local.docker.byName(db)?.state, 'running', 'kept through its grace period');

  s.clock.advance(GRACE_S * 1000 - 1);
  assert.deepEqual(await reapExpiredShared(s.ctx), [], 'nothing reaped a millisecond before the grace ends');
  assert.ok(s.local.docker.byName(db));
  assert.ok(readState(ctx.paths).shared_services[key]);

  s.clock.advance(1);
  assert.deepEqual(await reapExpiredShared(s.ctx), [key]);
  assert.equal(s.local.docker.byName(db), undefined, 'container removed');
  assert.ok(s.local.docker.calls.includes(`stop ${db}`) && s.local.docker.calls.includes(`remove ${db}`), 'stopped, then removed');
  assert.equal(readState(ctx.paths).shared_services[key], undefined, 'record gone');
});

test('an environment that takes a shared service back during its grace period ends the grace, and the reaper leaves it', async (t) => {
  const { s, ctx, e1, e2 } = await twoEnvironments(t);
  const def = definition('postgres:15');
  await ensureShared(ctx, input(e1, def, 1));
  await releaseShared(ctx, e1, ['db']);
  assert.notEqual(readState(ctx.paths).shared_services[key]?.grace_until, null);

  s.clock.advance(10_000);
  const back = await ensureShared(ctx, input(e2, def, 2));
  assert.equal(back.action, 'reused', 'the container still running is taken back, not made again');
  const rec = readState(ctx.paths).shared_services[key];
  assert.equal(rec?.grace_until, null);
  assert.deepEqual(rec?.users, ['e2']);

  s.clock.advance(GRACE_S * 1000);
  assert.deepEqual(await reapExpiredShared(s.ctx), []);
  assert.equal(s.local.docker.byName(db)?.state, 'running');
});

test('a changed definition of a shared service another environment uses is refused, naming that user and what differs', async (t) => {
  const { s, ctx, e1, e2 } = await twoEnvironments(t);
  await ensureShared(ctx, input(e1, definition('postgres:15'), 1));
  const changed = input(e2, definition('postgres:16', { POSTGRES_PASSWORD: 'y' }), 2);
  const refused = (e: unknown): boolean => {
    assert.ok(e instanceof CiloError);
    assert.equal(e.code, 'SHARED_CONFLICT');
    assert.match(e.message, /used by e1/);
    assert.match(e.message, /differs in: environment\.POSTGRES_PASSWORD, image\.$/);
    assert.doesNotMatch(e.message, /postgres:1[56]/, 'values (they may be secrets) are never shown');
    assert.match(e.hint ?? '', /--isolate db/);
    assert.doesNotMatch(e.hint ?? '', /--recreate/, 'never proposes replacing it under its users');
    return true;
  };
  await assert.rejects(checkSharedDefinition(ctx, changed), refused);
  await assert.rejects(ensureShared(ctx, changed), refused);
  assert.equal(s.local.compose.ups.length, 1, 'nothing made');
  assert.deepEqual(readState(ctx.paths).shared_services[key]?.users, ['e1'], 'the refused environment holds no reference');
  assert.equal(readState(ctx.paths).shared_services[key]?.config_hash, definitionHash(definition('postgres:15')));
});

test('a changed definition nobody else uses is refused with --recreate offered, and recreated when asked', async (t) => {
  const { s, ctx, e1 } = await twoEnvironments(t);
  await ensureShared(ctx, input(e1, definition('postgres:15'), 1));
  const changed = input(e1, definition('postgres:16'), 1);
  await assert.rejects(ensureShared(ctx, changed), (e: unknown) => e instanceof CiloError && e.code === 'SHARED_CONFLICT' && /--recreate/.test(e.hint ?? ''));
  const r = await ensureShared(ctx, { ...changed, recreate: true });
  assert.equal(r.action, 'recreated');
  assert.equal(s.local.docker.byName(db)?.image, 'postgres:16');
});

test('destroying an environment that shares a service with another removes its own parts and only its reference', async (t) => {
  const { s, ctx, e1, e2 } = await twoEnvironments(t);
  const def = definition('postgres:15');
  await ensureShared(ctx, input(e1, def, 1));
  await ensureShared(ctx, input(e2, def, 2));
  const own = (e: EnvironmentState): { [k: string]: string } => ({ [`com.docker.compose.project`]: composeProjectName(e.project, e.name), 'com.docker.compose.service': 'web' });
  for (const e of [e1, e2]) {
    s.local.docker.addContainer({ name: `${composeProjectName(e.project, e.name)}-web-1`, labels: own(e), networks: { [networkName(e.project, e.name)]: { ip: e.subnet.replace('0/24', '10') } } });
    s.local.docker.addVolume(`${composeProjectName(e.project, e.name)}_data`, { 'com.docker.compose.project': composeProjectName(e.project, e.name) });
  }

  await destroyEnvironment(s.ctx, readState(s.ctx.paths).environments.e1 as EnvironmentState);

  const dbBox = s.local.docker.byName(db);
  assert.equal(dbBox?.state, 'running', 'the shared container stays for e2');
  assert.deepEqual([...(dbBox?.networks.keys() ?? [])], [networkName('app', 'e2')]);
  const rec = readState(ctx.paths).shared_services[key];
  assert.deepEqual(rec?.users, ['e2']);
  assert.deepEqual(Object.keys(rec?.ips ?? {}), ['e2']);
  assert.equal(rec?.grace_until, null);
  assert.equal(s.local.docker.byName(`${composeProjectName('app', 'e1')}-web-1`), undefined, "e1's container removed");
  assert.equal(await s.local.docker.inspectNetwork(networkName('app', 'e1')), null, "e1's network removed");
  assert.equal(s.local.docker.volumes.has(`${composeProjectName('app', 'e1')}_data`), false, "e1's volume removed");
  assert.equal(readState(ctx.paths).environments.e1, undefined, 'e1 gone from state');
  assert.equal(existsSync(e1.workspace), false, "e1's workspace removed");
  assert.ok(s.local.docker.byName(`${composeProjectName('app', 'e2')}-web-1`), "e2's container untouched");
  assert.ok(await s.local.docker.inspectNetwork(networkName('app', 'e2')), "e2's network untouched");
  assert.ok(s.local.docker.volumes.has(`${composeProjectName('app', 'e2')}_data`), "e2's volume untouched");
  assert.ok(!s.local.docker.calls.some((c) => c === `stop ${db}` || c === `remove ${db}`), 'the shared container was never stopped');
});
