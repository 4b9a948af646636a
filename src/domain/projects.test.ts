import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsProjectSources, projectOwner, recordProjectSources } from './projects.js';
import { STATE_VERSION, type EnvironmentState, type State } from './state.js';

const env = (name: string, project: string, source: string, created: string): EnvironmentState => ({
  name,
  project,
  source,
  workspace: `/h/envs/${project}/${name}`,
  subnet: '10.224.1.0/24',
  dns_suffix: '.test',
  status: 'running',
  created_at: created,
  updated_at: created,
  services: {},
  ingress: null,
  hostnames: [],
  shared: [],
});

const state = (...envs: EnvironmentState[]): State => ({ version: STATE_VERSION, base_subnets: ['10.224.0.0/16'], dns_port: 5354, environments: Object.fromEntries(envs.map((e) => [e.name, e])), shared_services: {} });

test('a project is held by its recorded source while it has environments, and free without them', () => {
  const s = state(env('a', 'app', '/x/app', '2025-01-02T00:00:00Z'));
  s.projects = { app: { source: '/x/app', claimed_at: '2025-01-01T00:00:00Z' }, gone: { source: '/z/gone', claimed_at: '2025-01-01T00:00:00Z' } };
  assert.deepEqual(projectOwner(s, 'app'), { source: '/x/app', environments: ['a'] });
  assert.equal(projectOwner(s, 'gone'), undefined, 'destroying the last environment frees the name');
  assert.equal(projectOwner(s, 'other'), undefined);
});

test('a state without sources: each project gets its oldest environment\'s source; several sources are noted', () => {
  const s = state(env('b', 'app', '/y/app', '2025-01-03T00:00:00Z'), env('a', 'app', '/x/app', '2025-01-02T00:00:00Z'), env('c', 'blog', '/b/blog', '2025-01-02T00:00:00Z'));
  assert.deepEqual(projectOwner(s, 'app'), { source: '/x/app', environments: ['a', 'b'] }, 'known before migrating too');
  assert.equal(needsProjectSources(s), true);
  const notes = recordProjectSources(s, '2026-01-01T00:00:00Z');
  assert.deepEqual(s.projects, { app: { source: '/x/app', claimed_at: '2026-01-01T00:00:00Z' }, blog: { source: '/b/blog', claimed_at: '2026-01-01T00:00:00Z' } });
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /project "app" now belongs to \/x\/app; its environments b made from \/y\/app keep working/);
  assert.equal(needsProjectSources(s), false);
  assert.deepEqual(recordProjectSources(s, '2027-01-01T00:00:00Z'), [], 'runs once');
  assert.equal(s.projects.app!.claimed_at, '2026-01-01T00:00:00Z');
});

test('a project whose source cannot be known stays unrecorded and usable', () => {
  const s = state(env('a', 'shop', '', '2025-01-02T00:00:00Z'));
  assert.equal(needsProjectSources(s), false);
  assert.deepEqual(recordProjectSources(s, '2026-01-01T00:00:00Z'), []);
  assert.equal(s.projects, undefined);
  assert.equal(projectOwner(s, 'shop'), undefined, 'the next source to make an environment claims it');
});
