import { after, before, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { docker, ensureFixtureImage, FIXTURE_IMAGE, uid, waitFor } from './helpers.js';

// The foundation check: the suite talks to a real engine through cilo's own client.
const name = uid('cilo-engine-');
// A home label of its own: another test's `doctor` would call cilo-labelled resources without one its orphans.
const labels = { cilo: 'true', 'cilo.home': 'engine-test', 'cilo.project': name, 'cilo.env': 'probe' };

before(() => ensureFixtureImage());
after(async () => {
  await docker.removeContainer(name, { force: true });
  await docker.removeNetwork(name);
});

test('creates a network with a subnet, runs a fixture container on a fixed IP, and cleans up', async () => {
  const version = await docker.ping();
  assert.match(version, /^1\.\d+$/);

  const subnet = '10.253.77.0/24';
  await docker.createNetwork(name, labels, { subnet, gateway: '10.253.77.1' });
  const net = await docker.inspectNetwork(name);
  assert.equal(net?.IPAM.Config?.[0]?.Subnet, subnet);
  assert.equal(net?.Labels?.cilo, 'true');

  const id = await docker.createContainer(name, {
    Image: FIXTURE_IMAGE,
    Cmd: ['sh', '-c', 'echo hello-from-fixture; sleep 30'],
    Labels: labels,
    HostConfig: { NetworkMode: name, Init: true },
    NetworkingConfig: { EndpointsConfig: { [name]: { IPAMConfig: { IPv4Address: '10.253.77.20' } } } },
  });
  await docker.startContainer(id);
  const info = await docker.inspectContainer(id);
  assert.equal(info?.State.Running, true);
  assert.equal(info?.NetworkSettings.Networks[name]?.IPAddress, '10.253.77.20');
  const logs = await waitFor(async () => {
    const text = await docker.containerLogs(id);
    return text.includes('hello') && text;
  }, { what: "the fixture container's first log line" });
  assert.match(logs, /hello-from-fixture/);

  await docker.removeContainer(id, { force: true });
  assert.equal(await docker.inspectContainer(id), null);
  assert.equal(await docker.removeNetwork(name), true);
  assert.equal(await docker.inspectNetwork(name), null);
});

test('an unreachable engine is reported as DOCKER_UNREACHABLE naming the address', async () => {
  const { DockerClient } = await import('../../src/docker/client.js');
  const bad = new DockerClient({ socketPath: '/nonexistent/docker.sock', display: 'unix:///nonexistent/docker.sock' });
  await assert.rejects(bad.ping(), (e: Error & { code?: string }) => e.code === 'DOCKER_UNREACHABLE' && e.message.includes('/nonexistent/docker.sock'));
});

test('a container removed twice at once (a re-run destroy meeting a killed one) is removed once, and both calls succeed', async () => {
  const racer = `${name}-race`;
  try {
    for (let i = 0; i < 3; i++) {
      const id = await docker.createContainer(racer, { Image: FIXTURE_IMAGE, Cmd: ['sleep', '300'], Labels: labels, HostConfig: { Init: true } });
      await docker.startContainer(id);
      // The engine answers the second DELETE 409 "removal ... already in progress" while the first runs.
      const both = await Promise.allSettled([docker.removeContainer(id, { force: true }), docker.removeContainer(id, { force: true })]);
      assert.deepEqual(both.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')), ['ok', 'ok']);
      assert.equal(await docker.inspectContainer(id), null);
    }
  } finally {
    await docker.removeContainer(racer, { force: true }).catch(() => undefined);
  }
});

test('a conflict that is not a removal under way is still an error (a running container, without force)', async () => {
  const blocked = `${name}-running`;
  const id = await docker.createContainer(blocked, { Image: FIXTURE_IMAGE, Cmd: ['sleep', '300'], Labels: labels, HostConfig: { Init: true } });
  try {
    await docker.startContainer(id);
    await assert.rejects(docker.removeContainer(id), (e: Error) => /HTTP 409/.test(e.message) && /running container/i.test(e.message));
    assert.equal((await docker.inspectContainer(id))?.State.Running, true);
  } finally {
    await docker.removeContainer(id, { force: true });
  }
});

test("a network made while another request is making it (an interrupted create's, say) is taken as the environment's own, not as a conflict", async () => {
  const { ensureNetwork } = await import('../../src/core/network/network.js');
  const { networkName } = await import('../../src/domain/names.js');
  const now = new Date().toISOString();
  for (let i = 0; i < 3; i++) {
    const env = { name: `race${i}`, project: name, source: '/nonexistent', workspace: '/nonexistent', subnet: `10.253.${79 + i}.0/24`, dns_suffix: '.test', status: 'creating' as const, created_at: now, updated_at: now, services: {}, ingress: null, hostnames: [], shared: [] };
    const net = networkName(env.project, env.name);
    try {
      // The engine answers the second request "Pool overlaps" while the first is still making it.
      const both = await Promise.allSettled([docker.createNetwork(net, labels, { subnet: env.subnet, gateway: `10.253.${79 + i}.1` }), ensureNetwork(docker, env, 'test-home')]);
      assert.deepEqual(both.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')), ['ok', 'ok']);
      const found = await docker.listNetworks({ name: [net] });
      assert.deepEqual(found.map((n) => n.IPAM.Config?.[0]?.Subnet), [env.subnet], 'one network, with its subnet');
    } finally {
      for (const n of await docker.listNetworks({ name: [net] })) await docker.removeNetwork(n.Id);
    }
  }
});
