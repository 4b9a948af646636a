import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from './engine.js';
import { containerProblem, environmentProblems, liveStatus, needsRestartFacts, RESTART_STABLE_MS, type RestartFacts } from './liveness.js';
import type { EnvironmentState } from './state.js';

const c = (State: string, Status: string, labels: Record<string, string> = {}, Id = 'c1'): ContainerSummary => ({ Id, Names: [`/${Id}`], Image: 'x', State, Status, Labels: labels });
const facts = (f: Partial<RestartFacts>): RestartFacts => ({ restartCount: 0, policy: '', exitCode: 0, startedAt: undefined, ...f });
const now = Date.parse('2026-01-01T00:00:10Z');

test('a one-shot job that exited 0 is no problem unless its policy starts it again', () => {
  assert.equal(containerProblem(c('exited', 'Exited (0) 3 seconds ago'), facts({ policy: 'no' }), now), null);
  assert.equal(containerProblem(c('exited', 'Exited (0) 3 seconds ago'), facts({ policy: 'on-failure' }), now), null);
  assert.equal(containerProblem(c('exited', 'Exited (0) 3 seconds ago'), undefined, now), null);
  assert.equal(containerProblem(c('exited', 'Exited (0) 3 seconds ago'), facts({ policy: 'always' }), now), 'exited with code 0');
  assert.equal(containerProblem(c('exited', 'Exited (1) 3 seconds ago'), facts({ policy: 'no', exitCode: 1 }), now), 'exited with code 1');
  assert.equal(containerProblem(c('exited', 'Exited (1) 3 seconds ago'), facts({ policy: 'on-failure', restartCount: 3, exitCode: 1 }), now), 'exited with code 1 after 3 restarts');
});

test('a crash loop is a problem while restarting and in the moment it runs between restarts', () => {
  assert.equal(containerProblem(c('restarting', 'Restarting (1) 2 seconds ago'), facts({ restartCount: 5, policy: 'always', exitCode: 1 }), now), 'keeps restarting (5 restarts, last exit code 1)');
  const justNow = facts({ restartCount: 5, policy: 'always', startedAt: now - 100 });
  assert.equal(containerProblem(c('running', 'Up Less than a second'), justNow, now), 'keeps restarting (5 restarts)');
  assert.equal(containerProblem(c('running', 'Up 5 seconds'), facts({ restartCount: 2, startedAt: now - RESTART_STABLE_MS - 1 }), now), null, 'restarted a while ago, up since');
  assert.equal(needsRestartFacts(c('running', 'Up Less than a second')), true);
  assert.equal(needsRestartFacts(c('running', 'Up 2 seconds')), true);
  assert.equal(needsRestartFacts(c('running', 'Up 3 minutes')), false);
});

test('a running environment with a problem is degraded, naming each service (and replica); a stopped one has none', () => {
  const env: Pick<EnvironmentState, 'project' | 'name' | 'status' | 'services'> = {
    project: 'p',
    name: 'e',
    status: 'running',
    services: { api: { ip: '10.0.0.2', type: 'isolated' }, web: { ip: '10.0.0.3', type: 'isolated', replicas: ['10.0.0.3', '10.0.0.4'] }, gone: { ip: '10.0.0.5', type: 'isolated' } },
  };
  const labels = (service: string, n: number): Record<string, string> => ({ 'com.docker.compose.project': 'cilo-p-e', 'com.docker.compose.service': service, 'com.docker.compose.container-number': String(n) });
  const list = [c('exited', 'Exited (1) 1 second ago', labels('api', 1), 'a'), c('running', 'Up 1 minute', labels('web', 1), 'w1'), c('exited', 'Exited (137) 1 second ago', labels('web', 2), 'w2')];
  const problems = environmentProblems(env, list, new Map(), now);
  assert.deepEqual(problems, [
    { service: 'api', reason: 'exited with code 1' },
    { service: 'gone', reason: 'has no container' },
    { service: 'web', reason: 'replica 2 exited with code 137' },
  ]);
  assert.equal(liveStatus('running', problems), 'degraded');
  assert.deepEqual(environmentProblems({ ...env, status: 'stopped' }, list, new Map(), now), []);
  assert.equal(liveStatus('stopped', []), 'stopped');
});
