import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerInspect, ContainerSummary } from '../../domain/engine.js';
import { COMPOSE_SERVICE } from '../../domain/names.js';
import { servicesReadyNow, waitForServices, type WaitEngine, type WaitSpec } from './wait.js';

/** A stand-in engine with one container of service `api`, whose state and restart count the test scripts. */
function engine(states: string[], restartCounts: number[]): WaitEngine {
  let polls = 0;
  let inspections = 0;
  const summary = (): ContainerSummary => {
    const State = states[Math.min(polls++, states.length - 1)] ?? 'running';
    return { Id: 'c1', Names: ['/c1'], Image: 'x', State, Status: State === 'running' ? 'Up 1 second' : 'Restarting (1) 1 second ago', Labels: { [COMPOSE_SERVICE]: 'api' } };
  };
  const inspect = (): ContainerInspect => ({
    Id: 'c1',
    Name: '/c1',
    State: { Status: 'running', Running: true, ExitCode: 1 },
    Config: { Labels: {}, Image: 'x' },
    NetworkSettings: { Networks: {} },
    RestartCount: restartCounts[Math.min(inspections++, restartCounts.length - 1)] ?? 0,
  });
  return {
    listContainers: async () => [summary()],
    inspectContainer: async () => inspect(),
    containerLogs: async () => 'boom\n',
  };
}

const spec: WaitSpec = { composeProject: 'cilo-p-e', services: { api: { oneShotOk: false } }, timeoutMs: 5_000, envName: 'e', settleMs: 0 };

test('a crash loop fails the service: named, with its last log lines and a hint that needs no environment', async () => {
  const states = ['running', 'restarting', 'running', 'restarting', 'running'];
  await assert.rejects(waitForServices(engine(states, [0, 1, 2, 3]), { ...spec, settleMs: 50 }), (e: Error & { details?: string; hint?: string }) => {
    assert.match(e.message, /Service "api" of environment "e" keeps restarting \(3 restarts while starting, last exit code 1\)/);
    assert.match(e.details ?? '', /boom/);
    assert.doesNotMatch(e.hint ?? '', /cilo logs/, 'a rolled-back environment has no logs to ask for');
    return true;
  });
});

test('a restart between two polls is seen, even where the container looks running at every poll', async () => {
  await assert.rejects(waitForServices(engine(['running'], [0, 1, 2, 3]), { ...spec, settleMs: 50 }), /keeps restarting \(3 restarts/);
});

test('a service that restarts a few times until what it needs is up, then stays up, is ready', async () => {
  await waitForServices(engine(['running', 'restarting', 'running', 'restarting', 'running'], [0, 1, 1, 2, 2, 2]), { ...spec, settleMs: 20 });
});

test('a container that keeps running is ready', async () => {
  await waitForServices(engine(['running'], [3]), spec);
});

/** One container of `api`, as the engine answers the list and an inspect of it. */
function fixed(summary: Pick<ContainerSummary, 'State' | 'Status'>, inspect: { RestartCount: number; StartedAt: string; policy: string; ExitCode: number }): WaitEngine {
  return {
    listContainers: async () => [{ Id: 'c1', Names: ['/c1'], Image: 'x', Labels: { [COMPOSE_SERVICE]: 'api' }, ...summary }],
    inspectContainer: async () => ({
      Id: 'c1',
      Name: '/c1',
      State: { Status: summary.State, Running: summary.State === 'running', ExitCode: inspect.ExitCode, StartedAt: inspect.StartedAt },
      Config: { Labels: {}, Image: 'x' },
      HostConfig: { RestartPolicy: { Name: inspect.policy } },
      NetworkSettings: { Networks: {} },
      RestartCount: inspect.RestartCount,
    }),
    containerLogs: async () => 'crashing\n',
  };
}

test('a container its policy restarted a moment ago is not ready now, though it runs (a crash loop between two restarts)', async () => {
  const justNow = new Date(Date.now() - 100).toISOString();
  assert.equal(await servicesReadyNow(fixed({ State: 'running', Status: 'Up Less than a second' }, { RestartCount: 7, StartedAt: justNow, policy: 'always', ExitCode: 0 }), spec), false);
  const longAgo = new Date(Date.now() - 60_000).toISOString();
  assert.equal(await servicesReadyNow(fixed({ State: 'running', Status: 'Up About a minute' }, { RestartCount: 7, StartedAt: longAgo, policy: 'always', ExitCode: 0 }), spec), true);
});

test('a container already restarting with several restarts behind it fails at once as a crash loop', async () => {
  await assert.rejects(
    waitForServices(fixed({ State: 'restarting', Status: 'Restarting (1) 3 seconds ago' }, { RestartCount: 6, StartedAt: new Date().toISOString(), policy: 'always', ExitCode: 1 }), { ...spec, timeoutMs: 60_000 }),
    /Service "api" of environment "e" keeps restarting \(6 restarts, last exit code 1\)/,
  );
});

test('a one-shot job that exited 0 is ready under restart on-failure, not under always', async () => {
  const done = { State: 'exited', Status: 'Exited (0) 2 seconds ago' };
  const oneShot = { ...spec, services: { api: { oneShotOk: true } } };
  await waitForServices(fixed(done, { RestartCount: 0, StartedAt: new Date().toISOString(), policy: 'on-failure', ExitCode: 0 }), oneShot);
  await assert.rejects(waitForServices(fixed(done, { RestartCount: 0, StartedAt: new Date().toISOString(), policy: 'always', ExitCode: 0 }), oneShot), /exited with code 0/);
});
