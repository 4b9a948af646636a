import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ContainerInspect, ContainerSummary } from '../../domain/engine.js';
import type { EnvironmentState } from '../../domain/state.js';
import { ciloPaths, homeId } from '../../state/paths.js';
import type { SiteContext } from '../sites/site.js';
import { routedAliases } from './aliases.js';

const env = (name: string): EnvironmentState => ({ name, project: 'shop', source: '/src', workspace: '/ws', subnet: '10.1.0.0/24', dns_suffix: '.test', status: 'running', created_at: '', updated_at: '', services: {}, ingress: null, hostnames: [], shared: [] });

test('routedAliases: one list for every environment; a container is inspected once per network endpoint, not at every sync', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'cilo-aliases-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const paths = ciloPaths(home);
  const endpoints: Record<string, string> = { a: 'ep-a1', b: 'ep-b1' };
  const aliases: Record<string, string[]> = { a: ['web', 'web.e1.test', 'Docs.E1.test'], b: ['web', 'web.e2.test'] };
  const calls = { list: 0, inspect: [] as string[] };
  const summary = (id: string, envName: string): ContainerSummary => ({
    Id: id, Names: [`/${id}`], Image: 'img', State: 'running', Status: 'Up',
    Labels: { 'com.docker.compose.project': `cilo-shop-${envName}`, 'cilo.home': homeId(paths) },
    NetworkSettings: { Networks: { [`cilo_shop_${envName}`]: { EndpointID: endpoints[id] } } },
  });
  const docker = {
    listContainers: async () => {
      calls.list++;
      return [summary('a', 'e1'), summary('b', 'e2')];
    },
    inspectContainer: async (id: string): Promise<ContainerInspect> => {
      calls.inspect.push(id);
      const net = id === 'a' ? 'cilo_shop_e1' : 'cilo_shop_e2';
      return { Id: id, Name: id, State: { Status: 'running', Running: true, ExitCode: 0 }, Config: { Labels: {}, Image: 'img' }, NetworkSettings: { Networks: { [net]: { IPAddress: '10.1.0.2', Aliases: aliases[id] ?? null, NetworkID: net } } } };
    },
  };
  const ctx = { paths, site: { host: undefined, docker } } as unknown as SiteContext;
  const envs = [env('e1'), env('e2')];

  const first = await routedAliases(ctx, envs);
  assert.deepEqual([...first].sort(), ['docs.e1.test', 'web', 'web.e1.test', 'web.e2.test']);
  assert.deepEqual(calls, { list: 1, inspect: ['a', 'b'] });
  assert.equal(statSync(join(home, 'router', 'aliases-local.json')).mode & 0o777, 0o600);

  const second = await routedAliases(ctx, envs);
  assert.deepEqual([...second].sort(), [...first].sort());
  assert.deepEqual(calls.inspect, ['a', 'b'], 'nothing inspected again');

  // Container b made again (or reconnected): a new endpoint, read again.
  endpoints.b = 'ep-b2';
  aliases.b = ['web', 'web.e2.test', 'admin.e2.test'];
  assert.ok((await routedAliases(ctx, envs)).has('admin.e2.test'));
  assert.deepEqual(calls.inspect, ['a', 'b', 'b']);
});
