// cilo's benchmark suite: every measure of issue 8 next to its baseline, measured in the same
// run on the same machine, as one markdown table of medians (min–max) with the ratio and target.
//
//   npm run bench                                (builds dist/, then runs everything)
//   node bench/run.mjs [--runs N] [--only NAME[,NAME]]... [--write | --no-write] [--dns-seconds S]
//
// Names: cold-up, restart-up, shared-up, parallel-up, list, create, dns, dns-churn, dataset-seed, dataset-memory, fork, fork-reflink, fork-dataset, dataset-pause-up, ui-snapshot, in-place-up, router, admission, scale, wake.
// Runs: --runs N for every benchmark; without it 3 for those that start containers or DNS servers, 5 for the
// rest (list takes 4 samples per run: a single one is 0.1–0.2 s).
// scale: 64 environments at once unless CILO_BENCH_SCALE_ENVS=N says otherwise (develop with 8); they are
// made once per run, --runs sets how many samples of each measure it takes with 1 and with N.
// Output: the table on stdout, progress on stderr. A full run (no --only) also rewrites the part
// of bench/RESULTS.md between the `bench:begin`/`bench:end` markers (table + machine); the
// hand-written analysis around it is kept. --write / --no-write override that.
//
// Everything runs on the local engine with the offline fixture image (no registry), every
// benchmark has its own temporary CILO_HOME and DNS port, unique project names, and removes
// what it made, also when it fails or is interrupted. All DNS traffic goes to 127.0.0.1.
// The benchmark only reports: nothing here (or in the test suite) fails on a timing.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { tsImport } from 'tsx/esm/api';
import { buildTree } from './copy.mjs';
import { benchDatasetMemory, benchDatasetPauseUp, benchDatasetSeed } from './datasets.mjs';
import { benchFork, benchForkDataset, benchForkReflink } from './fork.mjs';
import { benchDns, benchDnsFollow, queryOnce } from './dns.mjs';
import { benchUiSnapshot } from './ui.mjs';
import { benchInPlaceUp } from './in-place.mjs';
import { benchRouter } from './router.mjs';
import { benchAdmission } from './admission.mjs';
import { benchWake } from './wake.mjs';
import { benchScale, scaleEnvs } from './scale.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const TMP = process.env.CILO_BENCH_DIR ?? os.tmpdir();
const FIXTURE_IMAGE = 'cilo-fixture/busybox:1';
const CMD_TIMEOUT_MS = 300_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => process.stderr.write(`[bench] ${line}\n`);

// ---------------------------------------------------------------- options

const USAGE = `usage: node bench/run.mjs [--runs N] [--only NAME[,NAME]]... [--write|--no-write] [--dns-seconds S]
names: cold-up, restart-up, shared-up, parallel-up, list, create, dns, dns-churn, dataset-seed, dataset-memory, fork, fork-reflink, fork-dataset, dataset-pause-up, ui-snapshot, in-place-up, router, admission, scale, wake
env: CILO_BENCH_SCALE_ENVS=N  environments of the scale benchmark (default 64)`;

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      only: { type: 'string', multiple: true },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      'dns-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) throw new Error(`--runs must be a whole number ≥ 1.\n${USAGE}`);
  const only = values.only?.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const n of only ?? []) if (!BENCHES.some((b) => b.name === n)) throw new Error(`unknown benchmark "${n}".\n${USAGE}`);
  const write = values['no-write'] ? false : values.write ? true : only === undefined;
  const dnsSeconds = Number(values['dns-seconds'] ?? 5);
  if (only === undefined || only.includes('scale')) scaleEnvs(); // a bad CILO_BENCH_SCALE_ENVS fails before anything starts
  return { runs, only, write, dnsSeconds };
}

// ---------------------------------------------------------------- processes and timing

/**
 * Cleanups of whatever is in flight. On SIGINT/SIGTERM the running children are killed (by
 * pid), no new command starts (except cleanup ones), and each benchmark's `finally` cleans up as
 * usual; should that take over a minute, the remaining cleanups are run from here.
 */
const pending = new Set();
const children = new Set();
let stopping = false;
async function withCleanup(cleanup, fn) {
  pending.add(cleanup);
  try {
    return await fn();
  } finally {
    pending.delete(cleanup);
    await cleanup().catch((e) => log(`cleanup failed: ${e.message}`));
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}: stopping, then cleaning up`);
    stopping = true;
    for (const c of children) c.kill('SIGKILL');
    setTimeout(async () => {
      for (const c of [...pending].reverse()) await c().catch(() => undefined); // newest first
      process.exit(130);
    }, 60_000).unref();
  });
}

/** Runs a command, returns its output and wall time (spawn to exit). Killed after `timeoutMs`. */
function run(cmd, args, { env = process.env, cwd = ROOT, timeoutMs = CMD_TIMEOUT_MS, cleanup = false } = {}) {
  return new Promise((resolveRun, reject) => {
    if (stopping && !cleanup) {
      reject(new Error('interrupted'));
      return;
    }
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (!cleanup) children.add(child);
    child.on('exit', () => children.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 128, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const line = [cmd === process.execPath ? 'cilo' : cmd, ...(cmd === process.execPath ? args.slice(1) : args)].join(' ');
    throw new Error(`\`${line}\` exited ${r.signal ?? r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-6).join(' | ')}`);
  }
  return r;
}

// ---------------------------------------------------------------- the CLI under test

let CLI; // a snapshot of dist/, so a rebuild by someone else mid-run cannot break the run

function snapshotCli() {
  const dist = join(ROOT, 'dist');
  if (!existsSync(join(dist, 'cilo.js'))) throw new Error('dist/cilo.js is missing: run `node scripts/build.mjs` (or `npm run bench`).');
  const dir = mkdtempSync(join(TMP, 'cilo-bench-cli-'));
  cpSync(dist, join(dir, 'dist'), { recursive: true });
  CLI = join(dir, 'dist', 'cilo.js');
  return dir;
}

function portFree(port) {
  return new Promise((res) => {
    const udp = createSocket('udp4');
    udp.once('error', () => res(false));
    udp.bind(port, '127.0.0.1', () => {
      const tcp = createServer();
      tcp.once('error', () => {
        udp.close();
        res(false);
      });
      tcp.listen(port, '127.0.0.1', () => {
        tcp.close();
        udp.close();
        res(true);
      });
    });
  });
}

async function freePort() {
  for (;;) {
    const p = 30000 + Math.floor(Math.random() * 25000);
    if (await portFree(p)) return p;
  }
}

const rand = () => Math.random().toString(36).slice(2, 7);

let helpers; // test/integration/helpers.ts: fixture image, cleanup by label

/**
 * A temporary CILO_HOME with its own DNS port and a unique project name. `cleanup` destroys
 * every environment, stops its DNS server with `cilo dns stop`, removes anything still labelled
 * with the project, and deletes the directory.
 */
async function makeHome(tag) {
  const dir = mkdtempSync(join(TMP, `cilo-bench-${tag}-`));
  const home = join(dir, 'home');
  const port = await freePort();
  const project = `bench-${tag}-${rand()}`;
  // A /16 of its own: other homes on this engine (tests running meanwhile) allocate from
  // 10.224.0.0/16, and two homes may pick the same free /24 between `create` and `up`.
  const baseSubnet = `10.${160 + Math.floor(Math.random() * 60)}.0.0/16`;
  const env = { ...process.env, CILO_HOME: home, CILO_DNS_PORT: String(port) };
  delete env.CILO_DEBUG;
  const h = {
    dir,
    home,
    port,
    project,
    env,
    cilo: (args, opts = {}) => must(process.execPath, [CLI, ...args], { env, cwd: opts.cwd ?? dir, ...opts }),
    ciloTry: (args, opts = {}) => run(process.execPath, [CLI, ...args], { env, cwd: opts.cwd ?? dir, cleanup: true, ...opts }),
    baseSubnet,
    init: () => h.cilo(['init', '--base-subnet', baseSubnet, '--dns-port', String(port)]),
    cleanup: async () => {
      if (existsSync(join(home, 'state.json'))) await h.ciloTry(['destroy', '--all', '--force']);
      await h.ciloTry(['dns', 'stop']);
      await helpers.removeProjectResources(project);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/**
 * The measured project: web -> api -> db, db with a named volume and a healthcheck, api waiting
 * for db to be healthy, `init: true` everywhere (PID 1 that handles SIGTERM, as real images do).
 */
export function composeYaml({ sharedDb = false } = {}) {
  return `services:
  web:
    image: ${FIXTURE_IMAGE}
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo web > /www/index.html && exec httpd -f -p 8080 -h /www"]
    expose: ["8080"]
    environment:
      API_URL: http://api:9000
    depends_on:
      api:
        condition: service_started
  api:
    image: ${FIXTURE_IMAGE}
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo api > /www/index.html && exec httpd -f -p 9000 -h /www"]
    expose: ["9000"]
    environment:
      DB_HOST: db
    depends_on:
      db:
        condition: service_healthy
  db:
    image: ${FIXTURE_IMAGE}
    init: true
    command: ["sh", "-c", "touch /data/ready && exec sleep 86400"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      timeout: 2s
      retries: 30
${sharedDb ? '    labels:\n      cilo.share: "true"\n' : ''}volumes:
  data: {}
`;
}

function writeProject(parent, name, opts) {
  const dir = join(parent, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'compose.yaml'), composeYaml(opts));
  writeFileSync(join(dir, 'src', 'app.sh'), '#!/bin/sh\necho app\n', { mode: 0o755 });
  return dir;
}

/** `cilo up` of a fresh environment of `dir`, timed (the CLI process, spawn to exit). */
async function upFresh(h, env, dir, extra = []) {
  return (await h.cilo(['up', env, '--from', dir, '--project', h.project, ...extra])).ms;
}

// ---------------------------------------------------------------- statistics and rows

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { n, median, min: s[0] ?? NaN, max: s[n - 1] ?? NaN };
}

const fmtMs = (ms) => (!Number.isFinite(ms) ? 'n/a' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`);
const fmtQps = (q) => (Number.isFinite(q) ? `${Math.round(q).toLocaleString('en-US')}/s` : 'n/a');
const fmtCount = (c) => (Number.isFinite(c) ? String(c) : 'n/a');

/**
 * One row of the table. `ours`/`base`: samples; `better`: 'lower' (times) or 'higher' (qps);
 * `target`: { ratio: x } for ours/base, or { max: x } / { equals: x } for an absolute value, or
 * { none: true } for a figure only reported.
 */
function row({ id, measure, ours, baseLabel = '—', base = null, fmt = fmtMs, target, better = 'lower', note = '', n }) {
  const o = { ...stats(ours), ...(n === undefined ? {} : { n }) };
  const b = base ? stats(base) : null;
  const ratio = b ? o.median / b.median : null;
  let met;
  let targetText;
  if (target.none) {
    // Reported only (issue 25's router figures have no target).
    targetText = '—';
    met = null;
  } else if (target.ratio !== undefined) {
    targetText = `${better === 'lower' ? '≤' : '≥'} ${target.ratio}×`;
    met = ratio === null || !Number.isFinite(ratio) ? null : better === 'lower' ? ratio <= target.ratio : ratio >= target.ratio;
  } else if (target.max !== undefined) {
    targetText = `< ${fmt(target.max)}`;
    met = Number.isFinite(o.median) ? o.median < target.max : null;
  } else {
    targetText = `${target.equals}`;
    met = o.max === target.equals && o.min === target.equals;
  }
  return { id, measure, ours: o, base: b, baseLabel, ratio, fmt, targetText, met, note };
}

function errorRow(id, measure, e) {
  return { id, measure, error: e instanceof Error ? e.message : String(e) };
}

const range = (s, fmt) => (s.min !== s.max ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median));

function table(rows) {
  const out = ['| # | measure | cilo: median (min–max) | baseline | baseline: median (min–max) | ratio | target | met | n |', '|---|---|---:|---|---:|---:|---:|:---:|---:|'];
  rows.forEach((r, i) => {
    if (r.error) {
      out.push(`| ${i + 1} | ${r.measure} | error | | | | | ✗ | |`);
      return;
    }
    const base = r.base ? range(r.base, r.fmt) : '—';
    const ratio = r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`;
    const met = r.met === null ? (r.targetText === '—' ? '—' : '?') : r.met ? 'yes' : '**no**';
    out.push(`| ${i + 1} | ${r.measure} | ${range(r.ours, r.fmt)} | ${r.baseLabel} | ${base} | ${ratio} | ${r.targetText} | ${met} | ${r.ours.n} |`);
  });
  return out.join('\n');
}

// ---------------------------------------------------------------- 1. cold up

async function benchColdUp({ runs }) {
  const h = await makeHome('cold');
  const dir = writeProject(h.dir, 'shop');
  const baseProject = `${h.project}-compose`;
  const compose = (args) => must('docker', ['compose', '-p', baseProject, ...args], { cwd: dir });
  const baseDown = () => compose(['down', '-v', '-t', '0']);
  return withCleanup(
    async () => {
      await run('docker', ['compose', '-p', baseProject, 'down', '-v', '-t', '0'], { cwd: dir, cleanup: true });
      await h.cleanup();
    },
    async () => {
      await h.init(); // also starts the DNS server: running already, as on any machine after the first `up`
      const ours = [];
      const base = [];
      // One untimed round of each warms the page cache, the engine and compose's own caches.
      for (let r = -1; r < runs; r++) {
        const order = r % 2 === 0 ? ['cilo', 'compose'] : ['compose', 'cilo'];
        for (const who of order) {
          if (who === 'compose') {
            const ms = (await compose(['up', '-d', '--wait'])).ms;
            await baseDown();
            if (r >= 0) base.push(ms);
          } else {
            const env = `c${r + 1}`;
            const ms = await upFresh(h, env, dir);
            await h.cilo(['destroy', env, '--force']);
            if (r >= 0) ours.push(ms);
          }
        }
        if (r >= 0) log(`cold-up run ${r + 1}: cilo ${fmtMs(ours.at(-1))}, compose ${fmtMs(base.at(-1))}`);
      }
      return [row({ id: 'cold-up', measure: 'cold `up`, 3 services (web → api → db healthy), images present', ours, baseLabel: '`docker compose up -d --wait`', base, target: { ratio: 1.1 } })];
    },
  );
}

// ---------------------------------------------------------------- 2. up after down

async function benchRestartUp({ runs }) {
  const h = await makeHome('restart');
  const dir = writeProject(h.dir, 'shop');
  return withCleanup(h.cleanup, async () => {
    await h.init();
    const cold = [];
    const warm = [];
    const thawed = [];
    for (let r = -1; r < runs; r++) {
      const env = `s${r + 1}`;
      const c = await upFresh(h, env, dir);
      await h.cilo(['down', env]);
      const w = (await h.cilo(['up', env])).ms;
      await h.cilo(['down', env, '--pause']);
      const p = (await h.cilo(['up', env])).ms;
      await h.cilo(['destroy', env, '--force']);
      if (r < 0) continue;
      cold.push(c);
      warm.push(w);
      thawed.push(p);
      log(`restart-up run ${r + 1}: up after down ${fmtMs(w)}, after down --pause ${fmtMs(p)}, cold up ${fmtMs(c)}`);
    }
    return [
      row({ id: 'restart-up', measure: '`up` of an environment stopped by `down`', ours: warm, baseLabel: 'its cold `up`', base: cold, target: { ratio: 0.3 } }),
      row({ id: 'pause-up', measure: 'extra: `up` of the same environment paused by `down --pause`', ours: thawed, baseLabel: 'its cold `up`', base: cold, target: { ratio: 0.3 } }),
    ];
  });
}

// ---------------------------------------------------------------- 3. shared service reuse

async function benchSharedUp({ runs }) {
  const h = await makeHome('shared');
  const dir = writeProject(h.dir, 'shop', { sharedDb: true });
  return withCleanup(h.cleanup, async () => {
    await h.init();
    await upFresh(h, 'holder', dir); // holds the shared db for the whole benchmark
    const shared = [];
    const isolated = [];
    for (let r = -1; r < runs; r++) {
      const order = r % 2 === 0 ? ['shared', 'isolated'] : ['isolated', 'shared'];
      for (const who of order) {
        const env = `${who[0]}${r + 1}`;
        const ms = await upFresh(h, env, dir, who === 'isolated' ? ['--isolate', 'db'] : []);
        if (r < 0) {
          // Once: check that the two environments are what they claim to be.
          const st = JSON.parse((await h.cilo(['status', env, '--json'])).stdout);
          const type = st.services.find((s) => s.name === 'db')?.type;
          if (type !== who) throw new Error(`environment ${env} has db of type ${type}, expected ${who}`);
        }
        await h.cilo(['destroy', env, '--force']);
        if (r >= 0) (who === 'shared' ? shared : isolated).push(ms);
      }
      if (r >= 0) log(`shared-up run ${r + 1}: reusing shared db ${fmtMs(shared.at(-1))}, isolated ${fmtMs(isolated.at(-1))}`);
    }
    return [row({ id: 'shared-up', measure: 'second environment `up` reusing a shared db', ours: shared, baseLabel: 'first `up --isolate db` of a fresh env', base: isolated, target: { ratio: 1.0 } })];
  });
}

// ---------------------------------------------------------------- 4. 8 environments in parallel

/**
 * 8 fresh environments `up` at once against the same work for the engine without cilo (issue
 * #13): 8 `docker compose up -d --wait` of the same project started at once, each its own
 * compose project (-p) and so its own network, containers and volume; the project publishes no
 * host port, so the copies cannot conflict. Runs alternate which side goes first.
 */
async function benchParallelUp({ runs }) {
  const N = 8;
  const h = await makeHome('par');
  const dir = writeProject(h.dir, 'shop');
  const baseProjects = Array.from({ length: N }, (_, i) => `${h.project}-compose-${i + 1}`);
  const composeAll = (args, opts) => Promise.all(baseProjects.map((p) => run('docker', ['compose', '-p', p, ...args], { cwd: dir, ...opts })));
  const composeDown = async () => {
    for (const r of await composeAll(['down', '-v', '-t', '0'], { cleanup: true })) if (r.code !== 0) throw new Error(`docker compose down failed: ${r.stderr.trim()}`);
  };
  return withCleanup(
    async () => {
      await composeAll(['down', '-v', '-t', '0'], { cleanup: true });
      await h.cleanup();
    },
    async () => {
      await h.init();
      const parallel = [];
      const compose = [];
      // One untimed round of each warms the engine and compose's own caches.
      for (let r = -1; r < runs; r++) {
        const order = r % 2 === 0 ? ['cilo', 'compose'] : ['compose', 'cilo'];
        for (const who of order) {
          const t0 = performance.now();
          if (who === 'compose') {
            const results = await composeAll(['up', '-d', '--wait']);
            const wall = performance.now() - t0;
            const failed = results.find((x) => x.code !== 0);
            if (failed) throw new Error(`docker compose up -d --wait failed: ${failed.stderr.trim().split('\n').slice(-3).join(' | ')}`);
            await composeDown();
            if (r >= 0) compose.push(wall);
          } else {
            const names = Array.from({ length: N }, (_, i) => `p${r + 1}-${i + 1}`);
            await Promise.all(names.map((n) => upFresh(h, n, dir)));
            const wall = performance.now() - t0;
            await h.cilo(['destroy', '--all', '--force']);
            if (r >= 0) parallel.push(wall);
          }
        }
        if (r >= 0) log(`parallel-up run ${r + 1}: ${N} cilo up at once ${fmtMs(parallel.at(-1))}, ${N} docker compose up at once ${fmtMs(compose.at(-1))}`);
      }
      return [row({ id: 'parallel-up', measure: `${N} environments \`up\` in parallel (wall time)`, ours: parallel, baseLabel: `${N} × \`docker compose up -d --wait\` at once (own -p each)`, base: compose, target: { ratio: 1.2 } })];
    },
  );
}

// ---------------------------------------------------------------- 5. list with 200 environments

function listState(n, port, project, home) {
  const environments = {};
  for (let i = 0; i < n; i++) {
    const name = `env-${i}`;
    const net = `10.224.${i}`;
    environments[name] = {
      name,
      project: `${project}-${i % 4}`,
      source: '/nonexistent/bench-source',
      workspace: join(home, 'envs', `${project}-${i % 4}`, name),
      subnet: `${net}.0/24`,
      dns_suffix: '.test',
      status: 'stopped',
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      services: { api: { ip: `${net}.10`, type: 'isolated', port: 9000 }, db: { ip: `${net}.11`, type: 'isolated' }, web: { ip: `${net}.12`, type: 'isolated', port: 8080 } },
      ingress: 'web',
      hostnames: ['admin'],
      shared: [],
      share_flags: { shared: [], isolate: [] },
    };
  }
  return { version: 3, base_subnets: ['10.224.0.0/16'], dns_port: port, environments, shared_services: {} }; // never allocated from: list only reads
}

async function benchList({ runs }) {
  const N = 200;
  const PER_RUN = 4;
  const h = await makeHome('list');
  return withCleanup(h.cleanup, async () => {
    mkdirSync(h.home, { recursive: true, mode: 0o700 });
    writeFileSync(join(h.home, 'state.json'), `${JSON.stringify(listState(N, h.port, h.project, h.home), null, 2)}\n`, { mode: 0o600 });
    const cwd = join(h.dir, 'elsewhere'); // no compose file here: list shows every environment
    mkdirSync(cwd);
    const ours = [];
    const base = [];
    for (let i = -2; i < runs * PER_RUN; i++) {
      const l = await h.cilo(['list', '--json'], { cwd });
      const n = JSON.parse(l.stdout).length;
      if (n !== N) throw new Error(`cilo list --json listed ${n} environments, expected ${N}`);
      const b = await must(process.execPath, ['-e', '0'], { cwd });
      if (i < 0) continue;
      ours.push(l.ms);
      base.push(b.ms);
    }
    // The 200 environments exist only in state: nothing to destroy, and `destroy --all` would try.
    rmSync(join(h.home, 'state.json'));
    log(`list: cilo ${fmtMs(stats(ours).median)}, node -e 0 ${fmtMs(stats(base).median)} (${ours.length} samples each)`);
    return [row({ id: 'list', measure: `\`cilo list --json\`, ${N} environments in state`, ours, baseLabel: '`node -e 0`', base, target: { ratio: 1.5 } })];
  });
}

// ---------------------------------------------------------------- 6. create of a 10,000-file project

async function benchCreate({ runs }) {
  const h = await makeHome('create');
  return withCleanup(h.cleanup, async () => {
    const src = join(h.dir, 'src');
    mkdirSync(src);
    buildTree(src); // bench/copy.mjs: 9,900 files + 100 symlinks in 200 directories, ~30 MiB
    writeFileSync(join(src, 'compose.yaml'), composeYaml());
    const ours = [];
    const base = [];
    let strategy = '?';
    let files = 0;
    for (let r = -1; r < runs; r++) {
      const order = r % 2 === 0 ? ['cilo', 'cp'] : ['cp', 'cilo'];
      for (const who of order) {
        spawnSync('sync'); // the previous copy's writeback must not land in this one's time
        if (who === 'cp') {
          const dst = join(h.dir, `cp${r + 1}`);
          const ms = (await must('cp', ['-a', '--reflink=auto', src, dst])).ms;
          rmSync(dst, { recursive: true, force: true });
          if (r >= 0) base.push(ms);
        } else {
          const env = `n${r + 1}`;
          const res = await h.cilo(['create', env, '--from', src, '--project', h.project, '--json']);
          const j = JSON.parse(res.stdout);
          strategy = j.copy;
          files = j.files;
          await h.cilo(['destroy', env, '--force']);
          if (r >= 0) ours.push(res.ms);
        }
      }
      if (r >= 0) log(`create run ${r + 1}: cilo create ${fmtMs(ours.at(-1))}, cp -a ${fmtMs(base.at(-1))}`);
    }
    return [row({ id: 'create', measure: '`cilo create` of a 10,000-file project', ours, baseLabel: '`cp -a --reflink=auto`', base, target: { ratio: 1.0 }, note: `${files} files copied, strategy ${strategy}` })];
  });
}

// ---------------------------------------------------------------- 7. DNS throughput and latency

async function benchDnsRows({ runs, dnsSeconds }) {
  const qps = { cilo: [], dnsmasq: [] };
  const p99 = { cilo: [], dnsmasq: [] };
  let generator = '?';
  let rate = 2000;
  let names = 0;
  let lost = 0;
  for (let r = 0; r < runs; r++) {
    const res = await benchDns({ seconds: dnsSeconds, rate });
    generator = res.generator;
    names = res.names;
    for (const x of res.results) {
      qps[x.server].push(x.qps);
      p99[x.server].push(x.p99_ms);
      if (x.server === 'cilo') lost += x.lost;
    }
    log(`dns run ${r + 1}: ${res.results.map((x) => `${x.server} ${fmtQps(x.qps)} p99 ${fmtMs(x.p99_ms)}`).join(', ')}`);
  }
  // How soon a change of state is answered: the SPEC's 100 ms, measured here rather than in the tests.
  const follow = { add: [], remove: [] };
  for (let r = 0; r < runs; r++) {
    const f = await benchDnsFollow();
    follow.add.push(...f.add);
    follow.remove.push(...f.remove);
    log(`dns-follow run ${r + 1}: add ${fmtMs(stats(f.add).median)} (worst ${fmtMs(stats(f.add).max)}), remove ${fmtMs(stats(f.remove).median)} (worst ${fmtMs(stats(f.remove).max)})`);
  }
  const hasMasq = qps.dnsmasq.length > 0;
  const how = generator === 'dnsperf' ? `dnsperf, 100 in flight, ${dnsSeconds} s` : `Node UDP client, 4×32 in flight, ${dnsSeconds} s`;
  const latencyHow = generator === 'dnsperf' ? `dnsperf -v paced at ${rate}/s` : 'same closed loop';
  return [
    row({ id: 'dns-qps', measure: `DNS queries/s on 127.0.0.1 (${names} names, ${how})`, ours: qps.cilo, baseLabel: 'dnsmasq, same names', base: hasMasq ? qps.dnsmasq : null, fmt: fmtQps, better: 'higher', target: { ratio: 0.5 }, note: `cilo lost ${lost} queries` }),
    row({ id: 'dns-p99', measure: `DNS p99 latency (${latencyHow})`, ours: p99.cilo, baseLabel: 'dnsmasq, same load', base: hasMasq ? p99.dnsmasq : null, target: { max: 1 } }),
    row({ id: 'dns-follow', measure: 'extra: state change to DNS answer (environment added or removed; from the state write returning to the first query that sees it)', ours: [...follow.add, ...follow.remove], target: { max: 100 }, note: `worst: add ${fmtMs(stats(follow.add).max)}, remove ${fmtMs(stats(follow.remove).max)} (the SPEC: every change within 100 ms)` }),
  ];
}

// ---------------------------------------------------------------- 8. DNS answers while environments change

/**
 * Asks `names` (name -> expected IP) round-robin at `rate` queries/s from one UDP socket until
 * stopped. A query fails when it has no answer within `timeoutMs`, or the answer is not
 * NOERROR with exactly the expected A record.
 */
function startQueryLoop(port, names, { rate = 500, timeoutMs = 1000 } = {}) {
  const list = Object.entries(names);
  const sock = createSocket('udp4');
  const inflight = new Map(); // id -> { name, ip, t }
  const latencies = [];
  const failures = [];
  let sent = 0;
  let id = 0;
  let i = 0;
  let stopped = false;
  sock.on('message', (msg) => {
    let p;
    try {
      p = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = inflight.get(p.id);
    if (!q) return;
    inflight.delete(p.id);
    latencies.push(performance.now() - q.t);
    const a = (p.answers ?? []).filter((x) => x.type === 'A').map((x) => x.data);
    if (p.rcode !== 'NOERROR' || a.length !== 1 || a[0] !== q.ip) failures.push({ name: q.name, why: `${p.rcode} ${a.join(',') || 'no answer'}`, at: new Date().toISOString() });
  });
  const perTick = Math.max(1, Math.round(rate / 100));
  const tick = setInterval(() => {
    const now = performance.now();
    for (const [qid, q] of inflight) {
      if (now - q.t > timeoutMs) {
        inflight.delete(qid);
        failures.push({ name: q.name, why: 'timeout', at: new Date().toISOString() });
      }
    }
    if (stopped) return;
    for (let k = 0; k < perTick; k++) {
      const [name, ip] = list[i++ % list.length];
      id = (id + 1) % 65536;
      inflight.set(id, { name, ip, t: performance.now() });
      sent++;
      sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] }), port, '127.0.0.1');
    }
  }, 10);
  const ready = new Promise((r) => sock.bind(0, '127.0.0.1', r));
  return {
    ready,
    failures,
    stop: async () => {
      stopped = true;
      const deadline = performance.now() + timeoutMs + 200;
      while (inflight.size > 0 && performance.now() < deadline) await sleep(20);
      clearInterval(tick);
      for (const q of inflight.values()) failures.push({ name: q.name, why: 'timeout', at: new Date().toISOString() });
      sock.close();
      return { sent, failures, latency: stats(latencies), p99: latencies.sort((a, b) => a - b)[Math.floor(0.99 * latencies.length)] ?? NaN };
    },
  };
}

async function namesOf(h, env) {
  const st = JSON.parse((await h.cilo(['status', env, '--json'])).stdout);
  const names = {};
  for (const s of st.services) names[`${s.name}.${env}.test`] = s.ip;
  const ingress = names[`web.${env}.test`];
  names[`${h.project}.${env}.test`] = ingress; // apex
  names[`www.${h.project}.${env}.test`] = ingress; // wildcard
  return names;
}

async function benchDnsChurn({ runs }) {
  const h = await makeHome('churn');
  const dir = writeProject(h.dir, 'shop');
  return withCleanup(h.cleanup, async () => {
    await h.init();
    await upFresh(h, 'stable', dir);
    const names = await namesOf(h, 'stable');
    const pid = () => readFileSync(join(h.home, 'dns', 'dns.pid'), 'utf8').trim();
    const pidBefore = pid();
    const afterUp = []; // a name of a just-started env that did not resolve when `up` returned
    const afterDestroy = []; // a name of a just-destroyed env that still resolved
    const loop = startQueryLoop(h.port, names);
    await loop.ready;
    const t0 = performance.now();
    let cycles = 0;
    let result;
    let reUpFrom = NaN;
    try {
      for (let r = 0; r < runs; r++) {
        const a = `a${r + 1}`;
        const b = `b${r + 1}`;
        await Promise.all([upFresh(h, a, dir), upFresh(h, b, dir)]);
        for (const e of [a, b]) {
          const q = await queryOnce(h.port, `web.${e}.test`);
          if (q.rcode !== 'NOERROR' || q.ips.length !== 1) afterUp.push(`${e}: ${q.rcode}`);
        }
        await Promise.all([h.cilo(['down', a]), h.cilo(['destroy', b, '--force'])]);
        const q = await queryOnce(h.port, `web.${b}.test`);
        if (q.rcode !== 'NXDOMAIN') afterDestroy.push(`${b}: ${q.rcode} ${q.ips.join(',')}`);
        await h.cilo(['up', a]);
        await h.cilo(['destroy', a, '--force']);
        cycles++;
        log(`dns-churn cycle ${r + 1} done`);
      }
      // Then the queried environment itself changes: `up` again (nothing to do) and `up --recreate`.
      await sleep(1100); // queries of the cycles above are answered or timed out by now
      reUpFrom = loop.failures.length;
      for (let r = 0; r < runs; r++) {
        await h.cilo(['up', 'stable']);
        await h.cilo(['up', 'stable', '--recreate']);
      }
    } finally {
      result = await loop.stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const pidAfter = pid();
    if (result.failures.length > 0) log(`dns-churn failures (first 5): ${JSON.stringify(result.failures.slice(0, 5))}`);
    const note = [
      `${result.sent} queries over ${seconds.toFixed(0)} s (${cycles} cycles of: 2 × up in parallel, down + destroy, up, destroy); p99 ${fmtMs(result.p99)}, max ${fmtMs(result.latency.max)}`,
      `names not resolvable when \`up\` returned: ${afterUp.length}${afterUp.length ? ` (${afterUp.join('; ')})` : ''}`,
      `names still resolving when \`destroy\` returned: ${afterDestroy.length}${afterDestroy.length ? ` (${afterDestroy.join('; ')})` : ''}`,
      `DNS server ${pidBefore === pidAfter ? 'kept running (same pid)' : `was restarted (pid ${pidBefore} -> ${pidAfter})`}`,
    ].join('; ');
    const others = Number.isNaN(reUpFrom) ? result.failures : result.failures.slice(0, reUpFrom);
    const own = Number.isNaN(reUpFrom) ? [] : result.failures.slice(reUpFrom);
    const why = (fs) => [...new Set(fs.map((f) => f.why))].join(', ');
    return [
      row({ id: 'dns-churn', measure: 'failed DNS queries for a running env while others go up/down/destroy (total over all cycles)', ours: [others.length + afterUp.length + afterDestroy.length], n: cycles, fmt: fmtCount, target: { equals: 0 }, note: `${note}${others.length ? `; failures: ${why(others)}` : ''}` }),
      row({ id: 'dns-reup', measure: 'extra: failed DNS queries for a running env while it is itself `up`ped again (plain, then `--recreate`; total)', ours: [own.length], n: runs, fmt: fmtCount, target: { equals: 0 }, note: `${runs} × (\`up\` + \`up --recreate\`) of the queried env${own.length ? `; failures: ${why(own)}, first at ${own[0].at}` : ''}` }),
    ];
  });
}

// ---------------------------------------------------------------- machine and report

function sh(cmd) {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'n/a';
}

function machine() {
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/) ?? [])[1] ?? 'n/a';
  return {
    date: new Date().toISOString(),
    nproc: sh('nproc'),
    cpu,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    docker: sh("docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'"),
    storageDriver: sh("docker info --format '{{.Driver}}'"),
    compose: sh('docker compose version --short'),
    node: process.version,
    tmpFs: `${TMP}: ${sh(`df -PT '${TMP}' | awk 'NR==2 {print $2}'`)}`,
    dnsperf: sh("dpkg-query -W -f '${Version}' dnsperf 2>/dev/null || dnsperf -h 2>&1 | grep -io 'version [0-9.]*'") || 'n/a',
    dnsmasq: sh("dnsmasq --version | head -1 | awk '{print $3}'"),
  };
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' / ');
const containersRunning = () => sh('docker ps -q | wc -l');

function report({ rows, notes, m, loads, runsText, took }) {
  const lines = [
    `Measured ${m.date} in ${Math.round(took / 1000)} s (${runsText}). Ratios are cilo / baseline medians of runs alternating between the two.`,
    '',
    table(rows),
    '',
    ...rows.filter((r) => r.error || r.note).map((r) => `- ${r.id}: ${r.error ? `**error**: ${r.error}` : r.note}`),
    ...notes.map((n) => `- ${n}`),
    '',
    '| machine | |',
    '|---|---|',
    `| CPUs (nproc) | ${m.nproc} × ${m.cpu} |`,
    `| memory | ${m.memory} |`,
    `| kernel | ${m.kernel} |`,
    `| Docker engine | ${m.docker}, storage driver ${m.storageDriver} |`,
    `| Docker Compose | ${m.compose} |`,
    `| Node.js | ${m.node} |`,
    `| temp dir file system | ${m.tmpFs} |`,
    `| dnsperf / dnsmasq | ${m.dnsperf} / ${m.dnsmasq} |`,
    `| load average (1/5/15 min) | ${loads.map((l) => `${l.when}: ${l.load} (${l.containers} containers running)`).join('; ')} |`,
  ];
  return lines.join('\n');
}

function writeResults(text) {
  const begin = '<!-- bench:begin (written by bench/run.mjs; edit outside these markers) -->';
  const end = '<!-- bench:end -->';
  const block = `${begin}\n${text}\n${end}`;
  let doc = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  const i = doc.indexOf('<!-- bench:begin');
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) doc = `${doc.slice(0, i)}${block}${doc.slice(j + end.length)}`;
  else doc = `# Benchmark results\n\n\`npm run bench\` (bench/run.mjs). The block below is rewritten by each full run.\n\n${block}\n${doc ? `\n${doc}` : ''}`;
  writeFileSync(RESULTS, doc);
}

// ---------------------------------------------------------------- main

// In the order they run: the light ones first, the 8 parallel `up`s (which leave the engine busy
// for a while) last. The table keeps the issue's order (`row`).
const BENCHES = [
  { name: 'list', row: 5, slow: false, fn: benchList },
  { name: 'create', row: 6, slow: false, fn: benchCreate },
  { name: 'dns', row: 7, slow: true, fn: benchDnsRows },
  { name: 'cold-up', row: 1, slow: true, fn: benchColdUp },
  { name: 'restart-up', row: 2, slow: true, fn: benchRestartUp },
  { name: 'shared-up', row: 3, slow: true, fn: benchSharedUp },
  { name: 'dns-churn', row: 8, slow: true, fn: benchDnsChurn },
  { name: 'parallel-up', row: 4, slow: true, fn: benchParallelUp },
  // Issue 15, one run each (bench/datasets.mjs).
  { name: 'dataset-seed', row: 9, slow: true, fn: () => benchDatasetSeed(datasetTools()) },
  { name: 'dataset-memory', row: 10, slow: true, fn: () => benchDatasetMemory(datasetTools()) },
  // Issue 17, one run each (bench/fork.mjs).
  { name: 'fork', row: 11, slow: true, fn: () => benchFork(datasetTools()) },
  { name: 'fork-reflink', row: 12, slow: true, fn: () => benchForkReflink(datasetTools()) },
  // Issue 23: the dataset copy of a fork, with and without a session on the source.
  { name: 'fork-dataset', row: 13, slow: true, fn: () => benchForkDataset(datasetTools()) },
  // Issue 23: resume of a paused environment with a dataset (bench/datasets.mjs).
  { name: 'dataset-pause-up', row: 14, slow: true, fn: ({ runs }) => benchDatasetPauseUp(datasetTools(), { runs }) },
  // Issue 27: the dashboard's snapshot with 20 environments and their datasets (bench/ui.mjs).
  { name: 'ui-snapshot', row: 15, slow: true, fn: ({ runs }) => benchUiSnapshot({ ...datasetTools(), cli: () => CLI }, { runs }) },
  // Issue 28: up of a new in-place environment of the 10,000-file project (bench/in-place.mjs).
  { name: 'in-place-up', row: 16, slow: true, fn: ({ runs }) => benchInPlaceUp({ ...datasetTools(), run, buildTree, composeYaml }, { runs }) },
  // Issue 25: a request through the loopback router against the same direct, and up -> first request by name (bench/router.mjs).
  { name: 'router', row: 17, slow: true, fn: ({ runs }) => benchRouter(datasetTools(), { runs }) },
  // Issue 26: 8 parallel ups against a memory budget that fits 5 (bench/admission.mjs).
  { name: 'admission', row: 18, slow: true, fn: ({ runs }) => benchAdmission({ ...datasetTools(), image: FIXTURE_IMAGE }, { runs }) },
  // Issue 26: 64 environments at once (CILO_BENCH_SCALE_ENVS) against 1: DNS, status, list, top, memory, up (bench/scale.mjs).
  { name: 'scale', row: 19, slow: true, fn: ({ runs, dnsSeconds }) => benchScale({ ...datasetTools(), quiesce, loadavg, fmtQps }, { runs, dnsSeconds }) },
  // Issue 26: the first DNS answer for an idle-paused environment, and the first request after it (bench/wake.mjs).
  { name: 'wake', row: 20, slow: true, fn: ({ runs }) => benchWake({ ...datasetTools(), image: FIXTURE_IMAGE }, { runs }) },
];

function datasetTools() {
  return { makeHome, withCleanup, must, row, log, fmtMs };
}

/** CPU idle share of the whole machine over `ms`, from /proc/stat. */
async function idleShare(ms) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
    return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

/**
 * Waits (up to 30 s) until the machine is at least 80% idle over a second, so one benchmark's
 * aftermath (the engine removing containers, writeback) does not land in the next one. Returns
 * the idle share it started with, which the report shows (the load average lags by minutes).
 */
async function quiesce() {
  let idle = await idleShare(1000);
  for (let i = 0; i < 30 && idle < 0.8; i++) idle = await idleShare(1000);
  return idle;
}
const MEASURE_OF = {
  'cold-up': 'cold `up`',
  'restart-up': '`up` after `down`',
  'shared-up': 'shared-service `up`',
  'parallel-up': '8 parallel `up`s',
  list: '`cilo list --json`',
  create: '`cilo create`',
  dns: 'DNS queries/s, p99 and change to answer',
  'dns-churn': 'DNS failures during changes',
  'dataset-seed': 'new environment with a 200 MB seed',
  'dataset-memory': 'memory of 8 environments, shared engines',
  fork: 'fork of an environment with a 1 GB volume',
  'fork-reflink': 'volume copy step of a fork on XFS (reflink)',
  'fork-dataset': 'dataset copy of a fork, idle source and with a session',
  'dataset-pause-up': '`up` of a paused environment with a dataset',
  'ui-snapshot': 'dashboard snapshot, 20 environments with datasets',
  router: 'request through the router against direct, and up to first request by name',
  admission: '8 parallel `up`s against a memory budget that fits 5',
  scale: 'many environments at once against 1',
  wake: 'first answer and request for an idle-paused environment',
};

async function main() {
  const opts = options();
  const started = performance.now();
  const cliDir = snapshotCli();
  const removeCli = async () => rmSync(cliDir, { recursive: true, force: true });
  pending.add(removeCli); // first in, so last out: the other cleanups still run the CLI
  helpers = await tsImport('../test/integration/helpers.ts', import.meta.url);
  helpers.ensureFixtureImage();
  const m = machine();
  const loads = [{ when: 'start', load: loadavg(), containers: containersRunning() }];
  log(`cilo ${CLI}; ${m.nproc} CPUs, load ${loads[0].load}, ${loads[0].containers} containers running`);
  const rows = [];
  const notes = [];
  let failed = false;
  try {
    for (const b of BENCHES) {
      if (opts.only && !opts.only.includes(b.name)) continue;
      if (stopping) break;
      const runs = opts.runs ?? (b.slow ? 3 : 5);
      const idle = await quiesce();
      const t0 = performance.now();
      const load = loadavg();
      log(`${b.name}: ${runs} runs (CPU ${(idle * 100).toFixed(0)}% idle, load ${load})`);
      let got;
      try {
        got = await b.fn({ runs, dnsSeconds: opts.dnsSeconds });
      } catch (e) {
        failed = true;
        log(`${b.name} failed: ${e.stack ?? e}`);
        got = [errorRow(b.name, MEASURE_OF[b.name], e)];
      }
      rows.push(...got.map((r) => ({ ...r, order: b.row })));
      notes.push({ order: b.row, text: `${b.name}: ${runs} runs in ${Math.round((performance.now() - t0) / 1000)} s; at its start the CPUs were ${(idle * 100).toFixed(0)}% idle (over 1 s), load average ${load}` });
    }
  } finally {
    pending.delete(removeCli);
    await removeCli();
  }
  if (stopping) {
    log('interrupted: no results written');
    process.exit(130);
  }
  loads.push({ when: 'end', load: loadavg(), containers: containersRunning() });
  const runsText = opts.runs ? `--runs ${opts.runs}` : 'default runs: 3 for benchmarks that start containers or DNS servers, 5 otherwise';
  rows.sort((a, b) => a.order - b.order); // stable: a benchmark's own rows keep their order
  notes.sort((a, b) => a.order - b.order);
  const text = report({ rows, notes: notes.map((n) => n.text), m, loads, runsText, took: performance.now() - started });
  console.log(text);
  if (opts.write) {
    writeResults(text);
    log(`wrote ${RESULTS}`);
  }
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
