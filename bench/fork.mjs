// Benchmarks of fork (issue #17), run by bench/run.mjs with its helpers (`tools`), once each:
//
//   fork          `cilo fork` of an environment whose named volume holds 1 GB, vs `cp -a` of the
//                 same volume directory on the same file system (Docker's data root), and how
//                 long the source's containers were frozen
//   fork-reflink  the volume copy step itself (the copier fork uses) on a 1 GB tree on a small XFS
//                 file system made on a loop device, vs `cp -a --reflink=always` there; skipped
//                 with its reason where one cannot be made (not root, no mkfs.xfs)
//   fork-dataset  the dataset copy of a fork in a shared postgres, both ways (below)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

const APP = 'cilo-fixture/busybox:1';
const GB_SCRIPT = 'for i in $(seq 1 16); do head -c 67108864 /dev/urandom > "$0/f$i"; done; mkdir -p "$0/small"; for i in $(seq 1 2000); do echo "$i" > "$0/small/$i"; done';

const composeYaml = () => `services:
  web:
    image: ${APP}
    init: true
    command: ["sleep", "3600"]
    volumes: ["data:/data"]
volumes:
  data: {}
`;

export async function benchFork(tools) {
  const { makeHome, withCleanup, must, row, log, fmtMs } = tools;
  const h = await makeHome('fork');
  return withCleanup(h.cleanup, async () => {
    const dir = join(h.dir, 'proj');
    mkdirSync(dir);
    spawnSync('sh', ['-c', `cat > '${join(dir, 'compose.yaml')}'`], { input: composeYaml() });
    await h.init();
    await h.cilo(['up', 'src', '--from', dir, '--project', h.project]);
    const volume = `cilo-${h.project}-src_data`;
    const web = spawnSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=cilo-${h.project}-src`], { encoding: 'utf8' }).stdout.trim();
    await must('docker', ['exec', web, 'sh', '-c', GB_SCRIPT, '/data']);
    const mountpoint = spawnSync('docker', ['volume', 'inspect', '-f', '{{.Mountpoint}}', volume], { encoding: 'utf8' }).stdout.trim();
    const cpDst = `${mountpoint}-benchcp`; // beside the volume: same file system
    spawnSync('sync');
    try {
      const cp = await must('cp', ['-a', mountpoint, cpDst]);
      spawnSync('sync');
      const fork = await h.cilo(['fork', 'src', 'copy', '--json']);
      const j = JSON.parse(fork.stdout);
      log(`fork: cilo fork ${fmtMs(fork.ms)} (volume ${j.method} ${fmtMs(j.volumes[0]?.ms ?? 0)}, source frozen ${fmtMs(j.frozen_ms)}), cp -a ${fmtMs(cp.ms)}`);
      return [
        row({ id: 'fork', measure: '`cilo fork` of an environment with a 1 GB volume', ours: [fork.ms], baseLabel: '`cp -a` of the volume directory', base: [cp.ms], target: { ratio: 1.1 }, note: `volume copied by ${j.method} in ${fmtMs(j.volumes[0]?.ms ?? 0)}` }),
        row({ id: 'fork-frozen', measure: 'how long the source was frozen (docker pause) during that fork', ours: [j.frozen_ms], baseLabel: '`cp -a` of the volume directory', base: [cp.ms], target: { ratio: 1.1 } }),
      ];
    } finally {
      rmSync(cpDst, { recursive: true, force: true });
    }
  });
}

/** A 1.5 GB XFS file system with reflink on a loop device, or the reason there cannot be one. */
function makeXfs(base) {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('sh', ['-c', 'command -v mkfs.xfs']).status !== 0) return 'mkfs.xfs is not installed (apt-get install xfsprogs)';
  const image = join(base, 'xfs.img');
  const mount = join(base, 'xfs');
  mkdirSync(mount);
  for (const [cmd, args] of [['truncate', ['-s', '1536M', image]], ['mkfs.xfs', ['-q', '-m', 'reflink=1', image]], ['mount', ['-o', 'loop', image, mount]]]) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) return `${cmd} failed: ${r.stderr.trim()}`;
  }
  return mount;
}

export async function benchForkReflink(tools) {
  const { withCleanup, must, row, log, fmtMs } = tools;
  const base = mkdtempSync('/var/tmp/cilo-bench-xfs-');
  const cleanup = async () => {
    spawnSync('umount', [join(base, 'xfs')]);
    rmSync(base, { recursive: true, force: true });
  };
  return withCleanup(cleanup, async () => {
    const mount = makeXfs(base);
    if (!mount.startsWith('/')) throw new Error(`skipped: ${mount}`);
    const src = join(mount, 'src');
    mkdirSync(src);
    await must('sh', ['-c', GB_SCRIPT, src]);
    spawnSync('sync');
    const { VolumeDataCopier } = await tsImport('../src/workspace/volume-copy.ts', import.meta.url);
    const copier = new VolumeDataCopier({}, {});
    const ours = join(mount, 'ours');
    mkdirSync(ours);
    const t0 = performance.now();
    const r = await copier.copy({ dir: src }, { dir: ours }, { image: 'unused' });
    const oursMs = performance.now() - t0;
    const cp = await must('cp', ['-a', '--reflink=always', src, join(mount, 'cp')]);
    log(`fork-reflink: copier ${r.method} ${fmtMs(oursMs)}, cp -a --reflink=always ${fmtMs(cp.ms)}`);
    return [row({ id: 'fork-reflink', measure: 'volume copy step of a fork, 1 GB on XFS (reflink)', ours: [oursMs], baseLabel: '`cp -a --reflink=always`', base: [cp.ms], target: { max: 1000 }, note: `method ${r.method}; XFS on a loop device (Docker's data root here is ext4)` })];
  });
}

// ---------------------------------------------------------------- fork-dataset
//
//   fork-dataset  the dataset step of `cilo fork` of an environment whose private database (in a
//                 shared postgres) holds a small dataset: once while nobody is connected to it
//                 (cilo clones it: CREATE DATABASE ... TEMPLATE) and once while a session is open
//                 on it (cilo dumps it: pg_dump | psql, the session left alone), each against the
//                 same copy made by hand in the same container, alternating, 3 rounds

const PG = 'cilo-fixture/postgres:15';
const DATASET_ROWS = 200_000;

const datasetProject = () => `services:
  db:
    image: ${PG}
    environment: { POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: shop }
    labels:
      cilo.share: "true"
      cilo.share.isolate: database
      cilo.share.seed: ./seed.sql
  api:
    image: ${APP}
    init: true
    command: ["sleep", "86400"]
    environment: { DATABASE_URL: "postgres://app:app@db:5432/shop" }
`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchForkDataset(tools) {
  const { makeHome, withCleanup, must, row, log, fmtMs } = tools;
  const { ensureDbImages } = await tsImport('../test/support/fixture-images.ts', import.meta.url);
  const reason = ensureDbImages();
  if (reason) throw new Error(`cannot build the database fixture images: ${reason}`);
  const h = await makeHome('fkds');
  return withCleanup(h.cleanup, async () => {
    const dir = join(h.dir, 'proj');
    mkdirSync(dir);
    writeFileSync(join(dir, 'compose.yaml'), datasetProject());
    writeFileSync(join(dir, 'seed.sql'), `CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, payload text NOT NULL);\nINSERT INTO items SELECT g, 'item-' || g, repeat('x', 90) FROM generate_series(1, ${DATASET_ROWS}) g;\nCREATE INDEX items_name ON items (name);\n`);
    await h.init();
    await h.cilo(['up', 'src', '--from', dir, '--project', h.project]);
    const shared = `cilo_shared_${h.project}_db`;
    const psql = (db, sql) => must('docker', ['exec', '-e', 'PGPASSWORD=app', shared, 'psql', '-h', '127.0.0.1', '-U', 'app', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql]);
    const state = JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));
    const source = state.environments.src.datasets.db.name;
    const size = (await psql('postgres', `SELECT pg_database_size('${source}')`)).stdout.trim();
    // A session on the source database, idle in an open transaction, for as long as it is needed.
    const hold = () => must('docker', ['exec', '-d', '-e', 'PGPASSWORD=app', '-e', 'PGAPPNAME=bench-hold', shared, 'psql', '-h', '127.0.0.1', '-U', 'app', '-d', source, '-c', 'BEGIN; SELECT count(*) FROM items; SELECT pg_sleep(3600)']);
    const holders = async () => Number((await psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench-hold'")).stdout.trim());
    const release = () => psql('postgres', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bench-hold'");
    const byHand = {
      template: () => psql('postgres', `CREATE DATABASE bench_by_hand TEMPLATE "${source}" STRATEGY FILE_COPY`),
      dump: async () => {
        await psql('postgres', 'CREATE DATABASE bench_by_hand');
        return must('docker', ['exec', '-e', 'PGPASSWORD=app', shared, 'sh', '-c', `pg_dump -h 127.0.0.1 -U app --no-owner "${source}" | psql -h 127.0.0.1 -U app -X -q -v ON_ERROR_STOP=1 -d bench_by_hand`]);
      },
    };
    const timed = async (fn) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const result = { template: { ours: [], base: [], fork: [] }, dump: { ours: [], base: [], fork: [] } };
    let n = 0;
    for (let round = 0; round < 4; round++) {
      for (const way of ['template', 'dump']) {
        if (way === 'dump') {
          await hold();
          for (let i = 0; i < 100 && (await holders()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
        }
        try {
          const env = `f${++n}`;
          const fork = await h.cilo(['fork', 'src', env, '--json']);
          const d = JSON.parse(fork.stdout).datasets[0];
          if (d.method !== way) throw new Error(`fork ${env} copied the dataset by ${d.method}, expected ${way}`);
          const base = await timed(byHand[way]).finally(() => psql('postgres', 'DROP DATABASE IF EXISTS bench_by_hand WITH (FORCE)'));
          if (way === 'dump' && (await holders()) !== 1) throw new Error('the session on the source did not survive the fork');
          await h.cilo(['destroy', env, '--force']);
          // The first round of each is untimed (caches warm up).
          if (round === 0) continue;
          result[way].ours.push(d.ms);
          result[way].base.push(base);
          result[way].fork.push(fork.ms);
        } finally {
          if (way === 'dump') await release();
        }
      }
    }
    const mb = `${(Number(size) / 1e6).toFixed(0)} MB`;
    log(`fork-dataset: ${mb}; template ${fmtMs(median(result.template.ours))} (by hand ${fmtMs(median(result.template.base))}), dump ${fmtMs(median(result.dump.ours))} (by hand ${fmtMs(median(result.dump.base))})`);
    return [
      row({ id: 'fork-dataset-idle', measure: `dataset step of \`cilo fork\`, ${DATASET_ROWS.toLocaleString('en')} rows (${mb}) in a shared postgres, no session on the source: CREATE DATABASE … TEMPLATE`, ours: result.template.ours, baseLabel: 'the same CREATE DATABASE … TEMPLATE by hand (`docker exec psql`)', base: result.template.base, target: { ratio: 1.5 }, note: `whole \`cilo fork\` ${fmtMs(median(result.template.fork))}` }),
      row({ id: 'fork-dataset-live', measure: 'the same, a session open on the source (left alone): pg_dump \\| psql', ours: result.dump.ours, baseLabel: 'the same `pg_dump \\| psql` by hand', base: result.dump.base, target: { ratio: 1.2 }, note: `whole \`cilo fork\` ${fmtMs(median(result.dump.fork))}` }),
      row({ id: 'fork-dataset-cost', measure: 'extra: what the open session costs the copy (dump, row above)', ours: result.dump.ours, baseLabel: 'the copy with no session (template, two rows above)', base: result.template.ours, target: { ratio: 10 } }),
    ];
  });
}
