// Benchmarks of private datasets in shared engines (issue #15), run by bench/run.mjs with its
// helpers (`tools`): one run each, against the offline postgres/redis fixture images.
//
//   dataset-seed    a new environment whose seed is ~200 MB of rows, ready with its data (the
//                   template already built), vs loading the same seed into an empty database
//                   with psql in the same server; and (dataset-resume) `up` of an environment
//                   with two private datasets (postgres + redis) paused by `down --pause`
//   dataset-memory  memory of 8 running environments of postgres + redis + app: shared engines
//                   with private datasets vs every environment with its own engines
//   dataset-pause-up  `up` of an environment with one private dataset paused by `down --pause`
//                   for longer than its shared postgres's grace, vs its `up` after a plain `down`
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

const PG = 'cilo-fixture/postgres:15';
const REDIS = 'cilo-fixture/redis:7';
const APP = 'cilo-fixture/busybox:1';

async function ensureImages() {
  const { ensureDbImages } = await tsImport('../test/support/fixture-images.ts', import.meta.url);
  const reason = ensureDbImages();
  if (reason) throw new Error(`cannot build the database fixture images: ${reason}`);
}

/** ~`mb` MB of COPY rows into one table: what a realistic seed dump looks like. */
async function writeSeed(path, mb) {
  const out = createWriteStream(path);
  const write = (s) => (out.write(s) ? Promise.resolve() : new Promise((r) => out.once('drain', r)));
  await write('CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, payload text NOT NULL);\nCOPY items (id, name, payload) FROM stdin;\n');
  const pad = 'x'.repeat(90);
  let bytes = 0;
  let chunk = '';
  for (let i = 1; bytes < mb * 1e6; i++) {
    const line = `${i}\titem-${i}\t${pad}${i}\n`;
    chunk += line;
    bytes += line.length;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  // A seed as dumps have them: the rows, then the secondary index built over them.
  await write(`${chunk}\\.\nCREATE INDEX items_name ON items (name);\n`);
  await new Promise((r) => out.end(r));
  return bytes;
}

/** The shared postgres of both benchmarks, giving each environment its own seeded database. */
function sharedPostgres(seed) {
  return `  db:
    image: ${PG}
    environment: { POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: shop }
    labels:
      cilo.share: "true"
      cilo.share.isolate: database
      cilo.share.seed: ${seed}
`;
}

function pgProject(dir) {
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
${sharedPostgres('./db/seed.sql')}  api:
    image: ${APP}
    init: true
    command: ["sleep", "86400"]
    environment: { DATABASE_URL: "postgres://app:app@db:5432/shop" }
`,
  );
}

export async function benchDatasetSeed(tools) {
  const { makeHome, withCleanup, must, row, log, fmtMs } = tools;
  await ensureImages();
  const h = await makeHome('dsseed');
  const dir = join(h.dir, 'shop');
  pgProject(dir);
  const mb = 200;
  const bytes = await writeSeed(join(dir, 'db', 'seed.sql'), mb);
  const rows = await withCleanup(h.cleanup, async () => {
    await h.init();
    const first = await h.cilo(['up', 'first', '--from', dir, '--project', h.project]);
    log(`dataset-seed: first up (builds the template from ${(bytes / 1e6).toFixed(0)} MB): ${fmtMs(first.ms)}`);
    // --json for the manifest's phase timings, progress for the dataset step's own duration:
    // where the time of a new environment goes, said beside the ratio.
    const fresh = await h.cilo(['up', 'fresh', '--from', dir, '--project', h.project, '--json'], { env: { ...h.env, CILO_PROGRESS: '1' } });
    const t = JSON.parse(fresh.stdout).timings ?? {};
    const datasetStep = /Dataset \S+ of db ready \(from \S+\) \(([\d.]+) s\)/.exec(fresh.stderr)?.[1];
    const phases = `phases: resolve+copy ${t.resolve_ms} ms, network ${t.network_ms} ms (beside it), shared services + dataset ${t.shared_ms} ms (the dataset's clone ${datasetStep ?? '?'} s), compose up ${t.compose_up_ms} ms, wait ${t.wait_ms} ms, up's own total ${t.total_ms} ms, the process ${fmtMs(fresh.ms)}`;
    log(`dataset-seed: ${phases}`);
    const container = `cilo_shared_${h.project}_db`;
    const psql = (args, opts = {}) => must('docker', ['exec', '-i', '-e', 'PGPASSWORD=app', container, 'psql', '-h', '127.0.0.1', '-U', 'app', '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...args], opts);
    const reset = await h.cilo(['db', 'reset', 'fresh']);
    const rows = (await psql(['-d', `${h.project.replaceAll('-', '_')}_fresh`, '-Atc', 'SELECT count(*) FROM items'])).stdout.trim();
    await psql(['-d', 'postgres', '-c', 'CREATE DATABASE plain_load']);
    const t0 = performance.now();
    const load = spawnSync('sh', ['-c', `docker exec -i -e PGPASSWORD=app ${container} psql -h 127.0.0.1 -U app -X -q -v ON_ERROR_STOP=1 -d plain_load < "${join(dir, 'db', 'seed.sql')}"`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const loadMs = performance.now() - t0;
    if (load.status !== 0) throw new Error(`psql load failed: ${load.stderr}`);
    log(`dataset-seed: new environment ready with ${rows} rows in ${fmtMs(fresh.ms)}; its dataset alone (db reset) ${fmtMs(reset.ms)}; psql load of the same seed ${fmtMs(loadMs)}`);
    return [
      row({
        id: 'dataset-seed',
        measure: `new environment \`up\` with a ${mb} MB seed (${rows} rows), template built`,
        ours: [fresh.ms],
        baseLabel: '`psql` loading the seed into an empty database',
        base: [loadMs],
        target: { ratio: 0.3 },
        note: `first up (template build) ${fmtMs(first.ms)}; ${phases}`,
      }),
      row({
        id: 'dataset-seed-clone',
        measure: 'extra: the same dataset made again alone (`cilo db reset`: drop + clone from the template)',
        ours: [reset.ms],
        baseLabel: '`psql` loading the seed into an empty database',
        base: [loadMs],
        target: { ratio: 0.3 },
      }),
    ];
  });
  // Measured once the 200 MB home is gone, on a project of its own.
  return [...rows, await benchPausedTwoDatasets(tools)];
}

/**
 * Issue 26: `up` of a paused environment with two private datasets (postgres and redis shared,
 * each isolated), its model unchanged: nothing to make, so it should take well under a second.
 * Five resumes, each after `down --pause`; the `up` after a plain `down` is shown beside it.
 */
async function benchPausedTwoDatasets(tools) {
  const { makeHome, withCleanup, row, log, fmtMs } = tools;
  const h = await makeHome('dsresume');
  const dir = join(h.dir, 'stack');
  stackProject(dir);
  return withCleanup(h.cleanup, async () => {
    await h.init();
    await h.cilo(['up', 'r', '--from', dir, '--project', h.project]);
    const resumed = [];
    const restarted = [];
    for (let r = 0; r < 5; r++) {
      await h.cilo(['down', 'r', '--pause']);
      resumed.push((await h.cilo(['up', 'r'])).ms);
      await h.cilo(['down', 'r']);
      restarted.push((await h.cilo(['up', 'r'])).ms);
    }
    log(`dataset-resume: up after down --pause ${resumed.map(fmtMs).join(', ')}; after down ${restarted.map(fmtMs).join(', ')}`);
    return row({ id: 'dataset-resume', measure: '`up` of a paused environment with two private datasets (postgres + redis), model unchanged', ours: resumed, baseLabel: 'its `up` after `down`', base: restarted, target: { max: 1000 } });
  });
}

/**
 * Issue 23: resuming a paused environment with a dataset took 11-28 s, because the pause let go
 * of the shared postgres, which was reaped at the end of its grace and made again. Each run
 * pauses for longer than a 1 s grace; the baseline is the same environment's `up` after `down`.
 */
export async function benchDatasetPauseUp(tools, { runs }) {
  const { makeHome, withCleanup, row, log, fmtMs } = tools;
  await ensureImages();
  const h = await makeHome('dspause');
  const dir = join(h.dir, 'shop');
  pgProject(dir);
  writeFileSync(join(dir, 'db', 'seed.sql'), 'CREATE TABLE items (id int PRIMARY KEY);\nINSERT INTO items SELECT generate_series(1, 1000);\n');
  mkdirSync(join(dir, '.cilo'), { recursive: true });
  writeFileSync(join(dir, '.cilo', 'config.yml'), 'shared_grace_period: 1s\n');
  return withCleanup(h.cleanup, async () => {
    await h.init();
    await h.cilo(['up', 'p', '--from', dir, '--project', h.project]);
    const resumed = [];
    const restarted = [];
    for (let r = -1; r < runs; r++) {
      await h.cilo(['down', 'p']);
      const w = (await h.cilo(['up', 'p'])).ms;
      await h.cilo(['down', 'p', '--pause']);
      await new Promise((res) => setTimeout(res, 3000)); // longer than the grace: a released shared db is reaped
      const p = (await h.cilo(['up', 'p'])).ms;
      if (r < 0) continue;
      restarted.push(w);
      resumed.push(p);
      log(`dataset-pause-up run ${r + 1}: up after down --pause ${fmtMs(p)}, after down ${fmtMs(w)}`);
    }
    return [row({ id: 'dataset-pause-up', measure: '`up` of an environment with a private postgres dataset, paused longer than the grace', ours: resumed, baseLabel: 'its `up` after `down`', base: restarted, target: { ratio: 0.5 } })];
  });
}

/** Memory use of running containers (bytes), as `docker stats` reports it (without page cache). */
function memoryOf(filterLabel) {
  const ids = spawnSync('docker', ['ps', '-q', '--filter', `label=${filterLabel}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return { bytes: 0, n: 0 };
  const out = spawnSync('docker', ['stats', '--no-stream', '--format', '{{.MemUsage}}', ...ids], { encoding: 'utf8' }).stdout;
  const units = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1e3, MB: 1e6, GB: 1e9 };
  let bytes = 0;
  for (const line of out.split('\n').filter(Boolean)) {
    const m = /^([\d.]+)\s*([A-Za-z]+)/.exec(line);
    if (m) bytes += Number(m[1]) * (units[m[2]] ?? 1);
  }
  return { bytes, n: ids.length };
}

function stackProject(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'seed.sql'), "CREATE TABLE items (id serial PRIMARY KEY, name text);\nINSERT INTO items (name) SELECT 'item-' || g FROM generate_series(1, 1000) g;\n");
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
${sharedPostgres('./seed.sql')}  cache:
    image: ${REDIS}
    labels:
      cilo.share: "true"
      cilo.share.isolate: db-index
  app:
    image: ${APP}
    init: true
    command: ["sleep", "86400"]
    environment: { DATABASE_URL: "postgres://app:app@db:5432/shop", REDIS_URL: "redis://cache:6379/0" }
`,
  );
}

export async function benchDatasetMemory(tools) {
  const { makeHome, withCleanup, row, log } = tools;
  await ensureImages();
  const envs = Array.from({ length: 8 }, (_, i) => `m${i + 1}`);
  const measure = async (tag, extra) => {
    const h = await makeHome(`dsmem-${tag}`);
    const dir = join(h.dir, 'stack');
    stackProject(dir);
    return withCleanup(h.cleanup, async () => {
      await h.init();
      for (const e of envs) await h.cilo(['up', e, '--from', dir, '--project', h.project, ...extra]);
      await new Promise((r) => setTimeout(r, 5000)); // let the engines settle after start-up
      const m = memoryOf(`cilo.project=${h.project}`);
      log(`dataset-memory ${tag}: ${m.n} containers, ${(m.bytes / 2 ** 20).toFixed(0)} MiB`);
      await h.cilo(['destroy', '--all', '--force']);
      return m;
    });
  };
  const shared = await measure('shared', []);
  const isolated = await measure('isolated', ['--isolate', 'db,cache']);
  const fmtMiB = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return [
    row({
      id: 'dataset-memory',
      measure: '8 environments of postgres + redis + app, memory of their containers: shared engines with private datasets',
      ours: [shared.bytes],
      baseLabel: 'every environment with its own postgres and redis',
      base: [isolated.bytes],
      fmt: fmtMiB,
      target: { ratio: 0.4 },
      note: `${shared.n} vs ${isolated.n} containers`,
    }),
  ];
}
