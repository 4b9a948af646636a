import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerInspect, ContainerSummary } from '../domain/engine.js';
import { COMPOSE_SERVICE } from '../domain/names.js';
import { waitForServices, type WaitEngine, type WaitSpec } from './wait.js';

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
