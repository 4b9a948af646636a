// Where the time of one `cilo up` goes: a timeline of the docker commands it runs (through a logging shim on PATH) and of
// what the engine did (from `docker events`), next to `docker compose up -d --wait` of the same
// files. Used to explain the misses in bench/RESULTS.md; not part of `npm run bench`.
//
//   node scripts/build.mjs && node bench/profile-up.mjs [cold|restart|shared]
//
// cold: a fresh environment; restart: `up` after `down`; shared: a second environment that
// reuses a shared db. Uses its own CILO_HOME, DNS port and project, and removes them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { composeYaml } from './run.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cilo.js');
const mode = process.argv[2] ?? 'cold';
if (!['cold', 'restart', 'shared'].includes(mode)) throw new Error('usage: node bench/profile-up.mjs [cold|restart|shared]');

const helpers = await tsImport('../test/integration/helpers.ts', import.meta.url);
helpers.ensureFixtureImage();
const dir = mkdtempSync(join(os.tmpdir(), 'cilo-profile-'));
const project = `prof-${Math.random().toString(36).slice(2, 7)}`;
const port = 30000 + Math.floor(Math.random() * 25000);
const env = { ...process.env, CILO_HOME: join(dir, 'home'), CILO_DNS_PORT: String(port) };
delete env.CILO_DEBUG;
const proj = join(dir, 'shop');
mkdirSync(proj);
writeFileSync(join(proj, 'compose.yaml'), composeYaml({ sharedDb: mode === 'shared' }));

const cilo = (args) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cilo ${args.join(' ')}: ${r.stderr}`);
  return r;
};

/**
 * Runs argv with a `docker` shim first on PATH that logs when each docker command starts and
 * ends (cheap, unlike strace, which slows the Go binaries down several times), and collects
 * `docker events` of the same window; everything relative to argv's start.
 */
const shimDir = join(dir, 'bin');
const shimLog = join(dir, 'docker-calls.log');
const realDocker = spawnSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).stdout.trim();
mkdirSync(shimDir);
writeFileSync(
  join(shimDir, 'docker'),
  `#!/bin/sh\necho "$(date +%s.%N) start $$ $*" >> '${shimLog}'\n'${realDocker}' "$@"\nrc=$?\necho "$(date +%s.%N) end $$ $rc" >> '${shimLog}'\nexit $rc\n`,
  { mode: 0o755 },
);

async function traced(argv, cwd, filter) {
  writeFileSync(shimLog, '');
  const since = (Date.now() / 1000).toFixed(3);
  const t0 = Date.now() / 1000;
  const traceFile = join(dir, 'node-trace.log');
  writeFileSync(traceFile, '');
  const isCilo = argv[0] === process.execPath;
  const args = isCilo ? ['--import', new URL('./trace-hooks.mjs', import.meta.url).href, ...argv.slice(1)] : argv.slice(1);
  spawnSync(argv[0], args, { env: { ...env, PATH: `${shimDir}:${env.PATH}`, CILO_BENCH_TRACE: traceFile }, cwd, stdio: 'ignore' });
  const t1 = Date.now() / 1000;
  await new Promise((r) => setTimeout(r, 300));
  const evText = spawnSync('docker', ['events', '--since', since, '--until', (Date.now() / 1000).toFixed(3), '--format', '{{.TimeNano}} {{.Type}} {{.Action}} {{.Actor.Attributes.name}}'], { encoding: 'utf8' }).stdout;
  const procs = new Map();
  for (const line of readFileSync(shimLog, 'utf8').split('\n')) {
    const m = /^([\d.]+) (start|end) (\d+) ?(.*)$/.exec(line);
    if (!m) continue;
    const [, ts, kind, pid, rest] = m;
    if (kind === 'start') procs.set(pid, { args: ['docker', ...rest.split(' ')], start: Number(ts) - t0, end: NaN });
    else if (procs.has(pid)) procs.get(pid).end = Number(ts) - t0;
  }
  const events = evText
    .split('\n')
    .filter((l) => l && filter(l))
    .map((l) => {
      const [ns, type, ...rest] = l.split(' ');
      return { at: Number(ns) / 1e9 - t0, what: `${type} ${rest.join(' ')}` };
    });
  // The cilo process's own view (trace-hooks.mjs): Engine API requests and child processes,
  // relative to its start, which is within a few ms of t0.
  const inner = readFileSync(traceFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [at, dur, ...what] = l.split(' ');
      return { at: Number(at), text: `    cilo: ${what.join(' ')}${Number(dur) > 0 ? ` (${(Number(dur) * 1000).toFixed(0)} ms)` : ''}` };
    });
  return { total: t1 - t0, procs: [...procs.values()], events, inner };
}

function print(title, r) {
  console.log(`\n## ${title}: ${r.total.toFixed(2)} s\n`);
  const rows = [{ at: 0, text: 'start' }, { at: r.total, text: 'end' }];
  for (const p of r.procs) {
    const short = p.args.filter((x) => !x.startsWith('-') && !x.includes('/')).join(' ');
    rows.push({ at: p.start, text: `${short}: start` });
    if (Number.isFinite(p.end)) rows.push({ at: p.end, text: `${short}: end (${((p.end - p.start) * 1000).toFixed(0)} ms)` });
  }
  for (const e of r.events) if (!/exec_(create|start|die)/.test(e.what)) rows.push({ at: e.at, text: `  engine: ${e.what}` });
  rows.push(...(r.inner ?? []).filter((x) => !x.text.includes('spawn docker')));
  rows.sort((x, y) => x.at - y.at);
  for (const x of rows) console.log(`${x.at.toFixed(3).padStart(7)} s  ${x.text}`);
}

try {
  cilo(['init', '--base-subnet', `10.${160 + Math.floor(Math.random() * 60)}.0.0/16`, '--dns-port', String(port)]);
  const mine = (l) => l.includes(project);
  if (mode === 'cold') {
    cilo(['up', 'warm', '--from', proj, '--project', project]);
    cilo(['destroy', 'warm', '--force']);
    print('cilo up (cold)', await traced([process.execPath, CLI, 'up', 'e1', '--from', proj, '--project', project], dir, mine));
    const base = `${project}-compose`;
    print('docker compose up -d --wait', await traced(['docker', 'compose', '-p', base, 'up', '-d', '--wait'], proj, (l) => l.includes(base)));
    spawnSync('docker', ['compose', '-p', base, 'down', '-v', '-t', '0'], { cwd: proj, stdio: 'ignore' });
  } else if (mode === 'restart') {
    cilo(['up', 'e1', '--from', proj, '--project', project]);
    print('cilo down', await traced([process.execPath, CLI, 'down', 'e1'], dir, mine));
    print('cilo up (after down)', await traced([process.execPath, CLI, 'up', 'e1'], dir, mine));
  } else {
    cilo(['up', 'holder', '--from', proj, '--project', project]);
    print('cilo up, reusing the shared db', await traced([process.execPath, CLI, 'up', 'e1', '--from', proj, '--project', project], dir, mine));
    print('cilo up --isolate db', await traced([process.execPath, CLI, 'up', 'e2', '--from', proj, '--project', project, '--isolate', 'db'], dir, mine));
  }
} finally {
  spawnSync(process.execPath, [CLI, 'destroy', '--all', '--force'], { env, cwd: dir, stdio: 'ignore' });
  spawnSync(process.execPath, [CLI, 'dns', 'stop'], { env, cwd: dir, stdio: 'ignore' });
  await helpers.removeProjectResources(project);
  rmSync(dir, { recursive: true, force: true });
}
