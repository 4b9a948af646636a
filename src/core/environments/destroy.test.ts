import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destroyPlanText } from './destroy.js';

test('the destroy plan in words names every container, volume, dataset and shared service', () => {
  const text = destroyPlanText({
    env: 'agent-1',
    containers: ['cilo-shop-agent-1-api-1', 'cilo-shop-agent-1-web-1'],
    network: 'cilo_shop_agent-1',
    names: '*.agent-1.test',
    volumes: ['cilo-shop-agent-1_data'],
    workspace: '/home/me/.cilo/envs/shop/agent-1',
    datasets: [{ service: 'db', engine: 'postgres', name: 'shop_agent_1' }],
    kept_datasets: [{ service: 'cache', engine: 'redis', name: '3' }],
    shared: ['cache', 'db'],
  });
  assert.equal(
    text,
    'Destroying agent-1 removes its 2 containers cilo-shop-agent-1-api-1 and cilo-shop-agent-1-web-1, its network cilo_shop_agent-1, its DNS names *.agent-1.test, ' +
      'its volume cilo-shop-agent-1_data with its data and its workspace /home/me/.cilo/envs/shop/agent-1 with every file in it. ' +
      'It drops its private dataset shop_agent_1 (postgres, in shared service db): that data is gone. ' +
      'Its dataset 3 (redis, in shared service cache) is kept. ' +
      'The shared services cache and db are released, not removed: they keep running for other environments, with their data.',
  );
});

test('a kept workspace and no volumes are said too', () => {
  const text = destroyPlanText({ env: 'e', containers: [], network: 'cilo_p_e', names: '*.e.test', volumes: [], workspace: null, datasets: [], kept_datasets: [], shared: [] });
  assert.equal(text, 'Destroying e removes its containers (none exist now), its network cilo_p_e and its DNS names *.e.test. It has no volumes. Its workspace is kept.');
});
