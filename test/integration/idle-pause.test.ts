/**
 * Idle pause (#26, "Pause the idle, wake on the first request"): the DNS server's supervisor
 * pauses an environment unused for its `--idle-pause`, as `down --pause` freezes it; `exec`
 * wakes it; `--idle-pause 0` is never paused; one paused by `down --pause` stays paused and exec
 * says so; a bad duration is refused with nothing made. Where the value comes from: the flag,
 * then `idle_pause:` in .cilo/config.yml, then `cilo init --idle-pause`. (The wake by a DNS query
 * is tested with the DNS server's own tests.)
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { CLI, copyFixture, docker, editState, ensureFixtureImage, makeHome, removeProjectResources, tearDown, uid, waitFor, type TestHome } from './helpers.js';

before(() => ensureFixtureImage());

interface EnvRecord { status: string; paused_by?: string; paused_at?: string; idle_pause_seconds?: number }

function recordOf(h: TestHome, env: string): EnvRecord | undefined {
  // A refused first command leaves no state at all.
  if (!existsSync(join(h.home, 'state.json'))) return undefined;
  const state = JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, EnvRecord>; idle_pause_default?: number };
  return state.environments[env];
}

function homeDefault(h: TestHome): number | undefined {
  return (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { idle_pause_default?: number }).idle_pause_default;
}

/** Whether the engine has the environment's app container frozen (docker inspect's State.Paused). */
async function enginePaused(project: string, env: string): Promise<boolean> {
  const [c] = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`, 'com.docker.compose.service=app'] });
  assert.ok(c, `the app container of ${env}`);
  const r = spawnSync('docker', ['inspect', '-f', '{{.State.Paused}}', c.Id], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() === 'true';
}

async function statusJson(h: TestHome, env: string): Promise<EnvRecord> {
  const r = await h.cli(['status', env, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as EnvRecord;
}

describe('idle pause', () => {
  let h: TestHome;
  let dir: string;
  let configured: string;
  const project = uid('idle');
  const other = uid('idlecfg');
  before(() => {
    h = makeHome();
    // app-sleep: one busybox container that sleeps, so its only use is what the test does.
    dir = copyFixture('app-sleep', { '.cilo/config.yml': `project: ${project}\n` });
    configured = copyFixture('app-sleep', { '.cilo/config.yml': `project: ${other}\nidle_pause: 1h\n` });
  });
  after(async () => {
    await tearDown(h, project, dir, configured);
    await removeProjectResources(other);
  });

  test('a bad --idle-pause is one sentence with exit 2, and nothing is made', async () => {
    const up = await h.cli(['up', 'bad', '--idle-pause', 'soon'], { cwd: dir });
    assert.equal(up.code, 2, up.stderr);
    assert.match(up.stderr, /--idle-pause must be a duration such as 30s, 10m, 1h30m or 0 \(off\), got "soon"/);
    assert.equal(recordOf(h, 'bad'), undefined, 'no state entry');
    assert.deepEqual(await docker.listContainers({ label: [`cilo.project=${project}`] }, true), []);
    assert.deepEqual(await docker.listNetworks({ label: [`cilo.project=${project}`] }), []);
    const init = await h.cli(['init', '--idle-pause', 'soon']);
    assert.equal(init.code, 2, init.stderr);
    assert.match(init.stderr, /--idle-pause must be a duration/);
  });

  test('the flag wins over the project config, which wins over the home default set by init', async () => {
    const init = await h.cli(['init', '--idle-pause', '45m']);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Idle pause: environments unused for 45m are paused/);
    assert.equal(homeDefault(h), 2700);
    assert.equal((await h.cli(['init'])).code, 0);
    assert.equal(homeDefault(h), 2700, 'init without --idle-pause keeps the default');

    // --idle-pause 0: off, over the home default; the config's 1h over the home default.
    const off = await h.cli(['up', 'off', '--idle-pause', '0'], { cwd: dir });
    assert.equal(off.code, 0, off.stderr);
    const cfg = await h.cli(['up', 'cfg'], { cwd: configured });
    assert.equal(cfg.code, 0, cfg.stderr);
    const home = await h.cli(['up', 'home'], { cwd: dir });
    assert.equal(home.code, 0, home.stderr);
    assert.equal(recordOf(h, 'off')?.idle_pause_seconds, 0);
    assert.equal(recordOf(h, 'cfg')?.idle_pause_seconds, 3600);
    assert.equal(recordOf(h, 'home')?.idle_pause_seconds, 2700);
    assert.equal((await statusJson(h, 'home')).idle_pause_seconds, 2700);
    assert.equal((await statusJson(h, 'off')).idle_pause_seconds, undefined, 'off: not shown');
    const status = await h.cli(['status', 'home']);
    assert.match(status.stdout, /Idle pause: {2}45m/);

    // The flag is remembered by a later up without it, as --profile is; a new flag replaces it.
    assert.equal((await h.cli(['up', 'off'], { cwd: dir })).code, 0);
    assert.equal(recordOf(h, 'off')?.idle_pause_seconds, 0, 'the remembered --idle-pause 0 still wins over the home default');
    assert.equal((await h.cli(['up', 'off', '--idle-pause', '20m'], { cwd: dir })).code, 0);
    assert.equal(recordOf(h, 'off')?.idle_pause_seconds, 1200);
    assert.equal((await h.cli(['up', 'off', '--idle-pause', '0'], { cwd: dir })).code, 0);

    const clear = await h.cli(['init', '--idle-pause', '0']);
    assert.equal(clear.code, 0, clear.stderr);
    assert.equal(homeDefault(h), undefined);
    for (const e of ['cfg', 'home']) assert.equal((await h.cli(['destroy', e, '--force'])).code, 0);
  });

  test('the supervisor pauses an environment idle past its idle pause, exec wakes it, and --idle-pause 0 is never paused', async () => {
    // `off` (from the test above, or made here) runs with the idle pause off.
    if (recordOf(h, 'off') === undefined) assert.equal((await h.cli(['up', 'off', '--idle-pause', '0'], { cwd: dir })).code, 0);
    const up = await h.cli(['up', 'sleepy', '--idle-pause', '2s'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(recordOf(h, 'sleepy')?.idle_pause_seconds, 2);

    await waitFor(async () => (await statusJson(h, 'sleepy')).status === 'paused', { what: 'the supervisor to pause sleepy', deadlineMs: 60_000, intervalMs: 500 });
    const doc = await statusJson(h, 'sleepy');
    assert.equal(doc.paused_by, 'idle');
    assert.ok(doc.paused_at && !Number.isNaN(Date.parse(doc.paused_at)), JSON.stringify(doc));
    assert.equal(await enginePaused(project, 'sleepy'), true, 'the container is frozen in the engine');
    const text = await h.cli(['status', 'sleepy']);
    assert.match(text.stdout, /Status: {6}paused \(idle\) since \d\d:\d\d/);
    const list = JSON.parse((await h.cli(['list', '--json'], { cwd: dir })).stdout) as ({ name: string } & EnvRecord)[];
    const listed = list.find((e) => e.name === 'sleepy');
    assert.equal(listed?.paused_by, 'idle', JSON.stringify(listed));
    assert.equal(listed?.idle_pause_seconds, 2);
    assert.match((await h.cli(['list'], { cwd: dir })).stdout, /sleepy .*paused \(idle\) since/);
    const top = await h.cli(['top', '--json', '--once'], { cwd: dir });
    assert.equal(top.code, 0, top.stderr);
    const rows = (JSON.parse(top.stdout) as { environments: { name: string; paused_by?: string; idle_seconds: number | null }[] }).environments;
    const sleepyRow = rows.find((e) => e.name === 'sleepy');
    assert.equal(sleepyRow?.paused_by, 'idle', top.stdout);
    assert.ok(typeof sleepyRow?.idle_seconds === 'number' && sleepyRow.idle_seconds >= 0, top.stdout);
    assert.match((await h.cli(['top', '--once'], { cwd: dir })).stdout, /sleepy +\S+ +paused \(idle\) +\d+s /);

    // The environment with its idle pause off was unused just as long, and runs.
    assert.equal(recordOf(h, 'off')?.status, 'running');
    assert.equal(await enginePaused(project, 'off'), false);

    // A longer idle pause from now on, so the supervisor does not pause it again while this test reads it.
    await editState(h, (s) => {
      s.environments.sleepy!.idle_pause_seconds = 3600;
    });
    const exec = await h.cli(['exec', 'sleepy', 'app', 'true']);
    assert.equal(exec.code, 0, exec.stderr);
    const woke = await statusJson(h, 'sleepy');
    assert.equal(woke.status, 'running', JSON.stringify(woke));
    assert.equal(woke.paused_by, undefined);
    assert.equal(await enginePaused(project, 'sleepy'), false);

    // Long past the 2 s, `off` is still running.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(recordOf(h, 'off')?.status, 'running');
    assert.equal(await enginePaused(project, 'off'), false);
  });

  test('an environment paused by down --pause stays paused: exec says so and names up', async () => {
    const up = await h.cli(['up', 'held', '--idle-pause', '1h'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const down = await h.cli(['down', 'held', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await statusJson(h, 'held')).paused_by, 'user');
    const exec = await h.cli(['exec', 'held', 'app', 'true']);
    assert.equal(exec.code, 1, exec.stderr);
    assert.match(exec.stderr, /Environment "held" is paused \(cilo down --pause\), so nothing can run in it\./);
    assert.match(exec.stderr, /cilo up held/);
    assert.equal(recordOf(h, 'held')?.status, 'paused');
    assert.equal(await enginePaused(project, 'held'), true);
    assert.match((await h.cli(['status', 'held'])).stdout, /Status: {6}paused\n/);
    const resume = await h.cli(['up', 'held']);
    assert.equal(resume.code, 0, resume.stderr);
    assert.equal(recordOf(h, 'held')?.status, 'running');
  });

  test('run wakes an idle-paused environment, and logs -f keeps one in use while it follows', async () => {
    const up = await h.cli(['up', 'runner', '--idle-pause', '2s'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    await waitFor(() => recordOf(h, 'runner')?.paused_by === 'idle', { what: 'the supervisor to pause runner', deadlineMs: 60_000, intervalMs: 200 });
    await editState(h, (s) => {
      s.environments.runner!.idle_pause_seconds = 3600;
    });
    const run = await h.cli(['run', 'true', 'runner'], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(recordOf(h, 'runner')?.status, 'running');
    assert.equal(await enginePaused(project, 'runner'), false);

    // Followed logs are a use: with a 2 s idle pause, 5 s of logs -f leave it running.
    await editState(h, (s) => {
      s.environments.runner!.idle_pause_seconds = 2;
    });
    const follow = spawn(process.execPath, [CLI, 'logs', '-f', 'runner'], { env: h.env, stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 5000));
      assert.equal(recordOf(h, 'runner')?.status, 'running', 'not paused while its logs are followed');
    } finally {
      follow.kill('SIGTERM');
    }
    // Once nobody follows, it is idle again.
    await waitFor(() => recordOf(h, 'runner')?.paused_by === 'idle', { what: 'runner to be paused once its logs are no longer followed', deadlineMs: 60_000, intervalMs: 200 });
  });

  test('an MCP exec wakes an idle-paused environment, an MCP call naming it marks it used, and up resumes one with its pause forgotten', async () => {
    // runner was left paused for being idle by the test above.
    if (recordOf(h, 'runner')?.paused_by !== 'idle') {
      if (recordOf(h, 'runner') === undefined) assert.equal((await h.cli(['up', 'runner', '--idle-pause', '2s'], { cwd: dir })).code, 0);
      await waitFor(() => recordOf(h, 'runner')?.paused_by === 'idle', { what: 'the supervisor to pause runner', deadlineMs: 60_000, intervalMs: 200 });
    }
    await editState(h, (s) => {
      s.environments.runner!.idle_pause_seconds = 3600;
    });
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], cwd: dir, env: h.env as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'cilo-idle-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const activity = join(h.home, 'activity', 'runner');
      const before = statSync(activity).mtimeMs;
      await new Promise((r) => setTimeout(r, 50));
      const read = (await client.callTool({ name: 'status', arguments: { env: 'runner' } }, undefined, { timeout: 120_000 })) as { isError?: boolean; content: { text: string }[] };
      assert.notEqual(read.isError, true, read.content[0]?.text);
      assert.ok(statSync(activity).mtimeMs > before, 'the call marked runner used');
      assert.equal(recordOf(h, 'runner')?.status, 'paused', 'reading the manifest does not wake it');
      const exec = (await client.callTool({ name: 'exec', arguments: { env: 'runner', service: 'app', argv: ['true'] } }, undefined, { timeout: 120_000 })) as { isError?: boolean; content: { text: string }[] };
      assert.notEqual(exec.isError, true, exec.content[0]?.text);
      assert.equal((JSON.parse(exec.content[0]?.text ?? '{}') as { exit_code: number }).exit_code, 0);
      assert.equal(recordOf(h, 'runner')?.status, 'running');
      assert.equal(await enginePaused(project, 'runner'), false);
    } finally {
      await client.close();
    }

    await editState(h, (s) => {
      s.environments.runner!.idle_pause_seconds = 2;
    });
    await waitFor(() => recordOf(h, 'runner')?.paused_by === 'idle', { what: 'the supervisor to pause runner again', deadlineMs: 60_000, intervalMs: 200 });
    const up = await h.cli(['up', 'runner', '--idle-pause', '1h']);
    assert.equal(up.code, 0, up.stderr);
    const rec = recordOf(h, 'runner');
    assert.equal(rec?.status, 'running');
    assert.equal(rec?.paused_by, undefined);
    assert.equal(rec?.paused_at, undefined);
    assert.equal(rec?.idle_pause_seconds, 3600);
    assert.equal(await enginePaused(project, 'runner'), false);
  });
});
