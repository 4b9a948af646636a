// `up` of an existing environment through the real use-case over a stand-in engine and compose
// (test/support/stand-in.ts): what it decides to run for a paused environment whose model did
// or did not change, and for a stopped one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downEnvironment } from '../../src/core/environments/down.js';
import { upEnvironment } from '../../src/core/environments/up.js';
import { composeProjectName } from '../../src/domain/names.js';
import { readState } from '../../src/state/store.js';
import { seedEnvironment, standInContext } from '../support/stand-in.js';

const web = `${composeProjectName('app', 'e1')}-web-1`;

/** Compose ups of the environment itself (the first up also makes the loopback router to ask it whether containers are reachable, issue #25). */
const envUps = (s: ReturnType<typeof standInContext>) => s.local.compose.ups.filter((u) => u.projectName === composeProjectName('app', 'e1'));

test('up of a paused environment only thaws it when its model is unchanged, and runs compose up when it changed', async (t) => {
  const s = standInContext();
  t.after(s.cleanup);
  await seedEnvironment(s.ctx, 'e1');
  s.local.compose.model = { services: { web: { image: 'nginx:1' } } };

  // A first up: nothing runs yet, so compose makes the container.
  const first = await upEnvironment(s.ctx, { env: 'e1' });
  assert.equal(first.env.status, 'running');
  assert.equal(envUps(s).length, 1);
  assert.equal(s.local.docker.byName(web)?.state, 'running');

  // Paused, same model: the next up thaws it and leaves compose alone.
  await downEnvironment(s.ctx, { env: 'e1', pause: true });
  assert.equal(s.local.docker.byName(web)?.state, 'paused');
  assert.equal(readState(s.ctx.paths).environments.e1?.status, 'paused');
  await upEnvironment(s.ctx, { env: 'e1' });
  assert.equal(envUps(s).length, 1, 'no compose up for an unchanged paused environment');
  assert.equal(s.local.docker.byName(web)?.state, 'running');
  assert.ok(s.local.docker.calls.includes(`unpause ${web}`));
  assert.equal(readState(s.ctx.paths).environments.e1?.status, 'running');

  // Paused, and the project changed meanwhile: thawed, then compose up recreates what changed.
  await downEnvironment(s.ctx, { env: 'e1', pause: true });
  s.local.compose.model = { services: { web: { image: 'nginx:2' } } };
  await upEnvironment(s.ctx, { env: 'e1' });
  assert.equal(envUps(s).length, 2, 'a changed model runs compose up');
  assert.equal(s.local.docker.byName(web)?.image, 'nginx:2');
  assert.equal(s.local.docker.byName(web)?.state, 'running');
});

test('up of a paused environment with --recreate runs compose up even when nothing changed', async (t) => {
  const s = standInContext();
  t.after(s.cleanup);
  await seedEnvironment(s.ctx, 'e1');
  s.local.compose.model = { services: { web: { image: 'nginx:1' } } };
  await upEnvironment(s.ctx, { env: 'e1' });
  await downEnvironment(s.ctx, { env: 'e1', pause: true });
  await upEnvironment(s.ctx, { env: 'e1', recreate: true });
  assert.equal(envUps(s).length, 2);
  assert.equal(envUps(s)[1]?.opts.forceRecreate, true);
});

test('up of a stopped environment with an unchanged model runs compose up (only a paused one is thawed instead)', async (t) => {
  const s = standInContext();
  t.after(s.cleanup);
  await seedEnvironment(s.ctx, 'e1');
  s.local.compose.model = { services: { web: { image: 'nginx:1' } } };
  await upEnvironment(s.ctx, { env: 'e1' });
  await downEnvironment(s.ctx, { env: 'e1' });
  assert.deepEqual(s.local.compose.stops, [composeProjectName('app', 'e1')]);
  assert.equal(s.local.docker.byName(web)?.state, 'exited');
  await upEnvironment(s.ctx, { env: 'e1' });
  assert.equal(envUps(s).length, 2);
  assert.equal(s.local.docker.byName(web)?.state, 'running');
});
