// Benchmark of many environments at once (issue #26), run by bench/run.mjs with its helpers (`tools`):
//
//   scale   N environments running at once (N = CILO_BENCH_SCALE_ENVS, default 64), each a busybox
//           `web` and `api` (httpd) plus one shared postgres giving each its own database
//           (cilo.share.isolate: database, a small seed). Measured with 1 environment up, then
//           with all N up, then with 1 again (the others destroyed): the baseline is both rounds
//           of 1, so a drift of the shared machine's load over the run lands on both sides:
//           - DNS queries/s and p99 against cilo's DNS server (a Node UDP closed loop, 4 sockets x
//             32 in flight, as bench/dns.mjs without dnsperf; dnsperf when installed), asking the
//             names of every running environment round-robin;
//           - wall times of `cilo status <env>`, `cilo list --json` and `cilo top --once --json`
//             (target <= 1.5x the same with 1 environment);
//           - memory per environment: `docker stats --no-stream` of the project's containers
//             (the shared postgres once) divided by N;
//           - the `up` of the N-th environment (alone, with N-1 running) against the first's
//             (alone, which also starts the shared postgres) and the second's (the first to
//             reuse it). Environments 3..N-1 start `SCALE_BATCH` at a time.
// The machine is shared: the N environments are made once per run of this benchmark, whatever
// --runs says (runs = samples of each timed command and DNS loads at each count).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { nodeLoad, queryOnce } from './dns.mjs';

const PG = 'cilo-fixture/postgres:15';
const WEB = 'cilo-fixture/busybox:1';
const BATCH = 4;
const MiB = 2 ** 20;
const nth = (n) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;

/** How many environments: CILO_BENCH_SCALE_ENVS (develop with 8), else 64. */
export function scaleEnvs() {
  const raw = process.env.CILO_BENCH_SCALE_ENVS;
  if (raw === undefined || raw === '') return 64;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 3) throw new Error(`CILO_BENCH_SCALE_ENVS must be a whole number >= 3 (got "${raw}"); unset it for 64.`);
  return n;
}

function project(dir) {
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(join(dir, 'db', 'seed.sql'), "CREATE TABLE items (id serial PRIMARY KEY, name text);\nINSERT INTO items (name) SELECT 'item-' || g FROM generate_series(1, 100) g;\n");
  const httpd = (name, port) => `  ${name}:
    image: ${WEB}
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p ${port} -h /www"]
    expose: ["${port}"]
`;
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
${httpd('web', 8080)}    environment: { API_URL: "http://api:9000" }
${httpd('api', 9000)}    environment: { DATABASE_URL: "postgres://app:app@db:5432/shop" }
  db:
    image: ${PG}
    environment: { POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: shop }
    labels:
      cilo.share: "true"
      cilo.share.isolate: database
      cilo.share.seed: ./db/seed.sql
`,
  );
}

/** Memory of the running containers with `label` (bytes, as `docker stats` reports it, page cache left out), and of the shared ones. */
function memoryOf(label) {
  const ids = spawnSync('docker', ['ps', '-q', '--filter', `label=${label}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return { bytes: 0, shared: 0, n: 0 };
  const out = spawnSync('docker', ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}', ...ids], { encoding: 'utf8' }).stdout;
  const units = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1e3, MB: 1e6, GB: 1e9 };
  let bytes = 0;
  let shared = 0;
  for (const line of out.split('\n').filter(Boolean)) {
    const [name, usage] = line.split('\t');
    const m = /^([\d.]+)\s*([A-Za-z]+)/.exec(usage ?? '');
    if (!m) continue;
    const b = Number(m[1]) * (units[m[2]] ?? 1);
    bytes += b;
    if (name.startsWith('cilo_shared_')) shared += b;
  }
  return { bytes, shared, n: ids.length };
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function benchScale(tools, { runs, dnsSeconds = 5 }) {
  const { makeHome, withCleanup, row, log, fmtMs, quiesce } = tools;
  const N = scaleEnvs();
  const { ensureDbImages } = await tsImport('../test/support/fixture-images.ts', import.meta.url);
  const reason = ensureDbImages();
  if (reason) throw new Error(`cannot build the database fixture images: ${reason}`);
  const h = await makeHome('scale');
  const dir = join(h.dir, 'shop');
  project(dir);
  const names = Array.from({ length: N }, (_, i) => `s${i + 1}`);
  const pidFile = join(h.home, 'dns', 'dns.pid');
  let dnsPid = NaN;
  const cleanup = async () => {
    // BATCH at a time first: one `destroy --all` of 64 on a busy machine may outlast its command timeout.
    let left = [];
    try {
      left = Object.keys(JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments ?? {});
    } catch {
      // no state: nothing was made
    }
    for (let i = 0; i < left.length; i += BATCH) await Promise.all(left.slice(i, i + BATCH).map((e) => h.ciloTry(['destroy', e, '--force'])));
    await h.cleanup(); // destroy --all, dns stop, everything labelled with the project, the directory
    // The DNS server, should `dns stop` have missed it: by the PID it wrote, nothing by name.
    for (let i = 0; i < 50 && Number.isInteger(dnsPid) && pidAlive(dnsPid); i++) await new Promise((r) => setTimeout(r, 100));
    if (Number.isInteger(dnsPid) && pidAlive(dnsPid)) {
      log(`scale: DNS server ${dnsPid} still running after \`dns stop\`: SIGTERM`);
      try {
        process.kill(dnsPid, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
  };
  return withCleanup(cleanup, async () => {
    await h.init();
    if (existsSync(pidFile)) dnsPid = Number(readFileSync(pidFile, 'utf8').trim());
    const up = async (env) => (await h.cilo(['up', env, '--from', dir, '--project', h.project])).ms;
    const dnsNames = (envs) => envs.flatMap((e) => [`web.${e}.test`, `api.${e}.test`, `${h.project}.${e}.test`]);

    /** Every measure at the current count: `envs` running. */
    const measureAt = async (envs) => {
      const idle = await quiesce();
      const load = tools.loadavg();
      if (!Number.isInteger(dnsPid) || !pidAlive(dnsPid)) dnsPid = Number(readFileSync(pidFile, 'utf8').trim());
      const q = await queryOnce(h.port, `web.${envs.at(-1)}.test`);
      if (q.rcode !== 'NOERROR' || q.ips.length !== 1) throw new Error(`web.${envs.at(-1)}.test did not resolve (${q.rcode})`);
      const t = { status: [], list: [], top: [], qps: [], p99: [], lost: 0 };
      let topSeen = null;
      // One untimed round warms the page cache for the CLI's modules; then `runs` rounds, the commands alternating.
      for (let r = -1; r < runs; r++) {
        const s = await h.cilo(['status', envs[0]]);
        const l = await h.cilo(['list', '--json']);
        const listed = JSON.parse(l.stdout);
        if (listed.length !== envs.length) throw new Error(`cilo list --json listed ${listed.length} environments, expected ${envs.length}`);
        const notRunning = listed.filter((e) => e.status !== 'running');
        if (notRunning.length > 0) throw new Error(`not running: ${notRunning.map((e) => `${e.name} ${e.status}`).join(', ')}`);
        const tp = await h.cilo(['top', '--once', '--json']);
        topSeen = JSON.parse(tp.stdout);
        if (r < 0) continue;
        t.status.push(s.ms);
        t.list.push(l.ms);
        t.top.push(tp.ms);
      }
      const withMemory = topSeen.environments.filter((e) => e.usage.memory_bytes > 0).length;
      if (withMemory !== envs.length) throw new Error(`cilo top --once --json showed memory for ${withMemory} of ${envs.length} environments`);
      for (let r = 0; r < runs; r++) {
        const d = await nodeLoad(h.port, dnsNames(envs), dnsSeconds);
        t.qps.push(d.qps);
        t.p99.push(d.p99_ms);
        t.lost += d.lost;
      }
      const mem = memoryOf(`cilo.project=${h.project}`);
      log(`scale with ${envs.length}: status ${fmtMs(t.status[0])}.., list ${fmtMs(t.list[0])}.., top ${fmtMs(t.top[0])}.., DNS ${Math.round(t.qps[0])}/s p99 ${fmtMs(t.p99[0])}, memory ${(mem.bytes / MiB).toFixed(0)} MiB in ${mem.n} containers (load ${load}, CPU ${(idle * 100).toFixed(0)}% idle)`);
      return { ...t, mem, load, idle, names: dnsNames(envs).length };
    };

    const first = await up(names[0]);
    log(`scale: first up (starts the shared postgres) ${fmtMs(first)}`);
    const one = await measureAt(names.slice(0, 1));
    const second = await up(names[1]);
    log(`scale: second up (reuses it) ${fmtMs(second)}`);
    const middle = names.slice(2, N - 1);
    const t0 = performance.now();
    for (let i = 0; i < middle.length; i += BATCH) {
      await Promise.all(middle.slice(i, i + BATCH).map(up));
      log(`scale: ${Math.min(N - 1, i + BATCH + 2)} of ${N} up (${((performance.now() - t0) / 1000).toFixed(0)} s, load ${tools.loadavg()})`);
    }
    const batchesMs = performance.now() - t0;
    await quiesce(); // the batches' aftermath does not land in the last one's up
    const last = await up(names[N - 1]);
    log(`scale: ${nth(N)} up ${fmtMs(last)}`);
    const many = await measureAt(names);
    // Back to 1 (environments 2..N destroyed, BATCH at a time), measured again: the machine is
    // shared, and its load drifts over the minutes the N take to start; the baseline is both rounds.
    const rest = names.slice(1);
    for (let i = 0; i < rest.length; i += BATCH) await Promise.all(rest.slice(i, i + BATCH).map((e) => h.cilo(['destroy', e, '--force'])));
    const again = await measureAt(names.slice(0, 1));
    const both = (k) => [...one[k], ...again[k]];
    const fmtMiB = (b) => `${(b / MiB).toFixed(1)} MiB`;
    const ownPerEnv = (many.mem.bytes - many.mem.shared) / N;
    const at = (m) => `load ${m.load}, CPU ${(m.idle * 100).toFixed(0)}% idle at the start`;
    const dnsHow = `Node UDP client, 4×32 in flight, ${dnsSeconds} s each`;
    return [
      row({ id: 'scale-dns-qps', measure: `scale: DNS queries/s with ${N} environments (${many.names} names; ${dnsHow})`, ours: many.qps, baseLabel: `1 environment (${one.names} names)`, base: both('qps'), fmt: tools.fmtQps, better: 'higher', target: { ratio: 0.67 }, note: `lost ${many.lost} (${N}) and ${one.lost + again.lost} (1) queries; ${at(one)} (1, before) / ${at(many)} (${N}) / ${at(again)} (1, after)` }),
      row({ id: 'scale-dns-p99', measure: `scale: DNS p99 latency with ${N} environments (same closed loop)`, ours: many.p99, baseLabel: '1 environment', base: both('p99'), target: { ratio: 1.5 } }),
      row({ id: 'scale-status', measure: `scale: \`cilo status <env>\` with ${N} environments`, ours: many.status, baseLabel: '1 environment', base: both('status'), target: { ratio: 1.5 } }),
      row({ id: 'scale-list', measure: `scale: \`cilo list --json\` with ${N} environments`, ours: many.list, baseLabel: '1 environment', base: both('list'), target: { ratio: 1.5 } }),
      row({ id: 'scale-top', measure: `scale: \`cilo top --once --json\` with ${N} environments`, ours: many.top, baseLabel: '1 environment', base: both('top'), target: { ratio: 1.5 }, note: 'a fresh `top --once` samples every container twice, 500 ms apart, for CPU' }),
      row({ id: 'scale-memory', measure: `scale: memory per environment with ${N} running (\`docker stats\` of their ${many.mem.n} containers, the shared postgres once, ÷ ${N})`, ours: [many.mem.bytes / N], fmt: fmtMiB, target: { none: true }, note: `web + api of one environment ${fmtMiB(ownPerEnv)}; the shared postgres with ${N} databases ${fmtMiB(many.mem.shared)} (with 1: ${fmtMiB(one.mem.shared)})` }),
      row({ id: 'scale-up', measure: `scale: \`up\` of the ${nth(N)} environment (alone, ${N - 1} running)`, ours: [last], baseLabel: 'the first environment\'s `up` (alone; starts the shared postgres)', base: [first], target: { none: true }, note: `the second's \`up\` (the first to reuse the postgres): ${fmtMs(second)}; environments 3–${N - 1} started ${BATCH} at a time in ${fmtMs(batchesMs)}` }),
    ];
  });
}
