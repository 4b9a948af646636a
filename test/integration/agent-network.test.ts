/**
 * Custom hostnames (DNS follows each change, `up` keeps them) and `cilo network status / migrate`
 * moving a running environment to a new base range. One environment is started once and moved
 * once, to keep the suite lean.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForAddresses } from '../support/dns-query.js';
import { copyFixture, docker, ensureFixtureImage, makeHome, uid, type TestHome } from './helpers.js';

interface EnvRec {
  subnet: string;
  status: string;
  services: Record<string, { ip: string }>;
  hostnames: string[];
  custom_hostnames?: string[];
}
const stateOf = (h: TestHome): { base_subnets: string[]; environments: Record<string, EnvRec> } => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

before(() => ensureFixtureImage());

describe('hostnames and network migrate', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('net');

  /** Waits until a name's A records are exactly `want` ([]: NXDOMAIN): DNS follows state as it changes. */
  const resolvesTo = (name: string, want: string[]): Promise<void> => waitForAddresses(h.dnsPort, name, want, 'the change');

  async function containerIp(service: string, env: string): Promise<string | undefined> {
    const [c] = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`, `com.docker.compose.service=${service}`] });
    assert.ok(c, `a container for ${service}`);
    const info = await docker.inspectContainer(c.Id);
    assert.equal(info?.State.Running, true, `${service} runs`);
    return info?.NetworkSettings.Networks[`cilo_${project}_${env}`]?.IPAddress;
  }

  before(async () => {
    h = makeHome();
    dir = copyFixture('web-db-idle');
    const r = await h.cli(['up', 'n1', '--project', project], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('hostnames add: DNS answers with the ingress IP without a restart; bad names are refused and change nothing', async () => {
    const web = stateOf(h).environments.n1!.services.web!.ip;
    await resolvesTo('web.n1.test', [web]);
    const r = await h.cli(['hostnames', 'add', 'n1', 'Admin', 'api.v2.n1.test']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Added admin, api\.v2 to n1/);
    await resolvesTo('admin.n1.test', [web]);
    await resolvesTo('api.v2.n1.test', [web]);

    const before = readFileSync(join(h.home, 'state.json'), 'utf8');
    for (const bad of ['bad_name', '-x', 'a..b', 'x'.repeat(64)]) {
      const b = await h.cli(['hostnames', 'add', 'n1', '--', 'ok-name', bad]);
      assert.equal(b.code, 2, `${bad}: ${b.stderr}`);
      assert.match(b.stderr, /^cilo: Invalid hostname .* a hostname must be dot-separated labels/);
    }
    const svc = await h.cli(['hostnames', 'add', 'n1', 'db']);
    assert.equal(svc.code, 2);
    assert.match(svc.stderr, /already the name of service "db"/);
    const missing = await h.cli(['hostnames', 'add', 'nope', 'x']);
    assert.equal(missing.code, 1);
    assert.equal(readFileSync(join(h.home, 'state.json'), 'utf8'), before, 'nothing half-done');
  });

  test('hostnames list, set --file and remove; DNS follows every change', async () => {
    const file = join(h.home, 'hosts.txt');
    writeFileSync(file, '# our names\nadmin\n\nshop   # the shop front\n');
    const s = await h.cli(['hostnames', 'set', 'n1', '--file', file]);
    assert.equal(s.code, 0, s.stderr);
    const list = JSON.parse((await h.cli(['hostnames', 'list', 'n1', '--json'])).stdout);
    assert.deepEqual(list.hostnames, [
      { name: 'admin', fqdn: 'admin.n1.test', source: 'custom' },
      { name: 'shop', fqdn: 'shop.n1.test', source: 'custom' },
    ]);
    await resolvesTo('api.v2.n1.test', []);
    const web = stateOf(h).environments.n1!.services.web!.ip;
    await resolvesTo('shop.n1.test', [web]);
    const rm = await h.cli(['hostnames', 'remove', 'n1', 'shop']);
    assert.equal(rm.code, 0, rm.stderr);
    await resolvesTo('shop.n1.test', []);
    const rmAgain = await h.cli(['hostnames', 'remove', 'n1', 'shop']);
    assert.equal(rmAgain.code, 2);
    assert.match(rmAgain.stderr, /has no hostname "shop"/);
    const table = await h.cli(['hostnames', 'list', 'n1']);
    assert.match(table.stdout, /^admin\.n1\.test\s+admin\s+custom$/m);
  });

  test('network status shows the base range, the DNS port and each environment', async () => {
    const r = await h.cli(['network', 'status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.base_subnets, [h.baseSubnet]);
    assert.equal(s.dns_port, h.dnsPort);
    const n1 = s.environments.find((e: { name: string }) => e.name === 'n1');
    assert.equal(n1.network_subnet, n1.subnet);
    assert.equal(n1.in_range, true);
    assert.deepEqual(n1.services.map((x: { name: string }) => x.name), ['db', 'web']);
    const table = await h.cli(['network', 'status']);
    assert.ok(table.stdout.split('\n').includes(`Base subnets: ${h.baseSubnet}`), table.stdout);
  });

  test('migrate refuses a range that overlaps a Docker network cilo does not manage', async () => {
    const before = readFileSync(join(h.home, 'state.json'), 'utf8');
    const bridge = (await docker.inspectNetwork('bridge'))?.IPAM.Config?.[0]?.Subnet ?? '172.17.0.0/16';
    const r = await h.cli(['network', 'migrate', bridge]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /overlaps the Docker network bridge/);
    const bad = await h.cli(['network', 'migrate', '10.0.0.0/33']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an IPv4 range/);
    assert.equal(readFileSync(join(h.home, 'state.json'), 'utf8'), before);
  });

  test('migrate moves a running environment (and a created one) to a new range; it still runs, keeping its hostnames', async () => {
    const c = await h.cli(['create', 'n2', '--project', project], { cwd: dir });
    assert.equal(c.code, 0, c.stderr);
    const used = (await docker.listNetworks()).flatMap((n) => (n.IPAM.Config ?? []).map((x) => x.Subnet ?? ''));
    const target = [...Array(12).keys()].map((i) => `10.${238 + i}.0.0/16`).find((t) => !used.some((u) => u.startsWith(`${t.split('.').slice(0, 2).join('.')}.`)));
    assert.ok(target, 'a free /16 to move to');
    const prefix = target.split('.').slice(0, 2).join('.');
    const before = stateOf(h).environments.n1!;

    const r = await h.cli(['network', 'migrate', target, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.base_subnets, [target]);
    assert.deepEqual(out.moved.map((m: { name: string; restarted: boolean }) => [m.name, m.restarted]), [
      ['n1', true],
      ['n2', false],
    ]);

    const s = stateOf(h);
    assert.deepEqual(s.base_subnets, [target]);
    const n1 = s.environments.n1!;
    assert.ok(n1.subnet.startsWith(`${prefix}.`), n1.subnet);
    assert.ok(s.environments.n2!.subnet.startsWith(`${prefix}.`));
    assert.equal(n1.status, 'running');
    for (const svc of ['web', 'db']) {
      const ip = n1.services[svc]!.ip;
      assert.ok(ip.startsWith(`${prefix}.`));
      assert.equal(ip.split('.')[3], before.services[svc]!.ip.split('.')[3], 'the host number is kept');
      assert.equal(await containerIp(svc, 'n1'), ip);
    }
    assert.equal((await docker.inspectNetwork(`cilo_${project}_n1`))?.IPAM.Config?.[0]?.Subnet, n1.subnet);
    assert.deepEqual(n1.custom_hostnames, ['admin']);
    assert.ok(n1.hostnames.includes('admin'), 'up keeps hostnames added by the command');
    await resolvesTo('web.n1.test', [n1.services.web!.ip]);
    await resolvesTo('admin.n1.test', [n1.services.web!.ip]);
    const st = JSON.parse((await h.cli(['status', 'n1', '--json'])).stdout);
    assert.equal(st.status, 'running');

    const again = await h.cli(['network', 'migrate', target]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Nothing to move/);
  });
});
