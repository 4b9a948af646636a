/**
 * Issue 27, "the original's usage" and "agents": what a user of the original Go cilo types
 * (`setup --build-tool`, `network migrate 10.88.`, `compose <env> ps --project P`), what `list`
 * shows, and `hook claude install` run again with other options, on a real engine.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { State } from '../../src/domain/state.js';
import { copyFixture, ensureFixtureImage, makeHome, tearDown, uid, type TestHome } from './helpers.js';

const stateOf = (h: TestHome): State => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as State;

before(() => ensureFixtureImage());

describe("the original cilo's usage (#27)", () => {
  let h: TestHome;
  let dir: string;
  let elsewhere: string;
  const project = uid('use');
  before(async () => {
    h = makeHome();
    dir = copyFixture('app-sleep', { '.cilo/config.yml': `project: ${project}\n` });
    // A directory of no project: --project is what names it.
    elsewhere = mkdtempSync(join(tmpdir(), 'cilo-elsewhere-'));
    const up = await h.cli(['up', 'u1'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
  });
  after(() => tearDown(h, project, dir, elsewhere));

  test('setup --build-tool docker is accepted and writes nothing for it; another tool is warned about', async () => {
    const fresh = copyFixture('app-sleep');
    try {
      const r = await h.cli(['setup', '--build-tool', 'docker', '--name', `${project}x`], { cwd: fresh });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '', 'docker is what cilo runs anyway');
      const written = readFileSync(join(fresh, '.cilo', 'config.yml'), 'utf8');
      assert.doesNotMatch(written, /build_tool/);
      const podman = await h.cli(['setup', '--build-tool', 'podman', '--force', '--json'], { cwd: fresh });
      assert.equal(podman.code, 0, podman.stderr);
      const doc = JSON.parse(podman.stdout) as { warnings: string[] };
      assert.equal(doc.warnings.length, 1);
      assert.match(doc.warnings[0] ?? '', /always runs `docker compose`, so "--build-tool podman" has no effect/);
      const text = await h.cli(['setup', '--build-tool', 'podman', '--force'], { cwd: fresh });
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stderr, /warning: .*"--build-tool podman" has no effect/);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  test("network migrate takes the prefix form init takes (10.88. is 10.88.0.0/16)", async () => {
    const subnetBefore = stateOf(h).environments.u1?.subnet;
    const prefix = h.baseSubnet.replace(/0\.0\/16$/, '');
    assert.match(prefix, /^10\.\d+\.$/);
    const r = await h.cli(['network', 'migrate', prefix, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { base_subnets: string[]; moved: unknown[] };
    assert.deepEqual(doc.base_subnets, [h.baseSubnet]);
    assert.deepEqual(doc.moved, [], 'the environment is already inside that range');
    assert.equal(stateOf(h).environments.u1?.subnet, subnetBefore);
    const bad = await h.cli(['network', 'migrate', '10.999.']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"10\.999\." is not an IPv4 range/);
  });

  test("compose <env> ps --project P: cilo's --project after the compose command, as the original's end-to-end test writes it", async () => {
    const r = await h.cli(['compose', 'u1', 'ps', '--format', '{{.Service}}', '--project', project], { cwd: elsewhere });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'app');
    const eq = await h.cli(['compose', 'u1', 'ps', `--project=${project}`, '--services'], { cwd: elsewhere });
    assert.equal(eq.code, 0, eq.stderr);
    assert.equal(eq.stdout.trim(), 'app');
    const wrong = await h.cli(['compose', 'u1', 'ps', '--project', 'other'], { cwd: dir });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /belongs to project/);
    // The container's command keeps its own --project.
    const inside = await h.cli(['compose', 'u1', 'exec', '-T', 'app', 'echo', '--project', 'x'], { cwd: dir });
    assert.equal(inside.code, 0, inside.stderr);
    assert.equal(inside.stdout, '--project x\n');
  });

  test('list shows stopped environments too, in every format, and says so in --help', async () => {
    const down = await h.cli(['down', 'u1'], { cwd: dir });
    assert.equal(down.code, 0, down.stderr);
    const table = await h.cli(['list'], { cwd: dir });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^u1 .* stopped /m);
    const json = JSON.parse((await h.cli(['list', '--json'], { cwd: dir })).stdout) as { name: string; status: string }[];
    assert.deepEqual(json.map((e) => [e.name, e.status]), [['u1', 'stopped']]);
    assert.equal((await h.cli(['list', '--format', 'quiet'], { cwd: dir })).stdout, 'u1\n');
    const help = await h.cli(['list', '--help']);
    assert.match(help.stdout, /Every environment is listed whatever its status/);
    assert.match(help.stdout, /not a status filter/);
  });
});

describe('hook claude install run again with other options (#27)', () => {
  let h: TestHome;
  let repo: string;
  before(() => {
    h = makeHome();
    repo = mkdtempSync(join(tmpdir(), 'cilo-hooks-'));
  });
  after(async () => {
    await h.cleanup();
    rmSync(repo, { recursive: true, force: true });
  });

  const commands = (): Record<string, string[]> => {
    const s = JSON.parse(readFileSync(join(repo, '.claude', 'settings.json'), 'utf8')) as { hooks: Record<string, { hooks: { command: string }[] }[]> };
    return Object.fromEntries(Object.entries(s.hooks).map(([event, groups]) => [event, groups.flatMap((g) => g.hooks.map((x) => x.command))]));
  };

  test('--up (or --command) over hooks already installed updates them and says what changed', async () => {
    const first = await h.cli(['hook', 'claude', 'install'], { cwd: repo });
    assert.equal(first.code, 0, first.stderr);
    assert.ok(existsSync(join(repo, '.claude', 'settings.json')));
    const up = await h.cli(['hook', 'claude', 'install', '--up'], { cwd: repo });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Updated the WorktreeCreate hook in .*settings\.json: `cilo hook claude worktree-create` is now `cilo hook claude worktree-create --up`/);
    assert.deepEqual(commands(), { WorktreeCreate: ['cilo hook claude worktree-create --up'], WorktreeRemove: ['cilo hook claude worktree-remove'] });
    const same = await h.cli(['hook', 'claude', 'install', '--up'], { cwd: repo });
    assert.match(same.stdout, /already has cilo's worktree hooks, as asked/);
    const other = await h.cli(['hook', 'claude', 'install', '--up', '--command', '/opt/cilo/bin/cilo', '--json'], { cwd: repo });
    assert.equal(other.code, 0, other.stderr);
    const doc = JSON.parse(other.stdout) as { added: string[]; updated: { event: string; from: string; to: string }[] };
    assert.deepEqual(doc.added, []);
    assert.deepEqual(doc.updated.map((u) => [u.event, u.to]), [
      ['WorktreeCreate', '/opt/cilo/bin/cilo hook claude worktree-create --up'],
      ['WorktreeRemove', '/opt/cilo/bin/cilo hook claude worktree-remove'],
    ]);
    assert.deepEqual(commands(), { WorktreeCreate: ['/opt/cilo/bin/cilo hook claude worktree-create --up'], WorktreeRemove: ['/opt/cilo/bin/cilo hook claude worktree-remove'] });
  });
});
