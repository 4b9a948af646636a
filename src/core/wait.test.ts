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

test('a container that restarted between two polls failed to start: named, with its last log lines', async () => {
  await assert.rejects(waitForServices(engine(['running'], [0, 1]), spec), (e: Error & { details?: string; hint?: string }) => {
    assert.match(e.message, /Service "api" of environment "e" restarted 1 time\(s\) while starting \(last exit code 1\)/);
    assert.match(e.details ?? '', /boom/);
    assert.doesNotMatch(e.hint ?? '', /cilo logs/, 'a rolled-back environment has no logs to ask for');
    return true;
  });
});

test('a container seen restarting keeps crashing', async () => {
  await assert.rejects(waitForServices(engine(['running', 'restarting', 'running'], [0]), { ...spec, settleMs: 50 }), /Service "api" of environment "e" keeps restarting/);
});

test('a container that keeps running is ready', async () => {
  await waitForServices(engine(['running'], [3]), spec);
});
