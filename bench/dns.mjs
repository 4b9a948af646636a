// Benchmark of cilo's DNS server (the built CLI, `cilo dns start`) on loopback with a state of
// ~50 running environments, next to dnsmasq serving the same names when it is installed.
// Load: dnsperf when installed (Debian: apt-get install dnsperf), else a Node UDP load loop.
// Also how soon the server answers a change of state (benchDnsFollow): the SPEC's 100 ms, which
// the test suite deliberately does not time.
// Not part of the test suite.  Run: node scripts/build.mjs && node bench/dns.mjs [seconds]
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import dnsPacket from 'dns-packet';
import { tsImport } from 'tsx/esm/api';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cilo.js');

const has = (cmd) => spawnSync('sh', ['-c', 'command -v "$0"', cmd], { stdio: 'ignore' }).status === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A running environment of state schema v3 on `net` (a /24's first three octets): web, api, db (shared). */
function environment(name, project, net) {
  const services = { web: { ip: `${net}.2`, type: 'isolated' }, api: { ip: `${net}.3`, type: 'isolated' }, db: { ip: `${net}.4`, type: 'shared' } };
  return {
    name,
    project,
    source: '/bench',
    workspace: '/bench',
    subnet: `${net}.0/24`,
    dns_suffix: '.test',
    status: 'running',
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    services,
    ingress: 'web',
    hostnames: ['admin'],
    shared: ['db'],
  };
}

/** A state (schema v3) with `n` running environments of 3 services each, and the names to ask. */
function fixture(n, port) {
  const environments = {};
  const records = []; // [name, ip]: exact names
  const wildcards = []; // [apex, ip]
  for (let i = 0; i < n; i++) {
    const name = `agent-${i}`;
    const project = `proj${i % 5}`;
    const net = `10.${200 + Math.floor(i / 250)}.${i % 250}`;
    environments[name] = environment(name, project, net);
    const { services } = environments[name];
    for (const [svc, { ip }] of Object.entries(services)) records.push([`${svc}.${name}.test`, ip]);
    records.push([`admin.${name}.test`, `${net}.2`]);
    wildcards.push([`${project}.${name}.test`, `${net}.2`]);
  }
  const state = { version: 3, base_subnets: ['10.200.0.0/14'], dns_port: port, environments, shared_services: {} };
  // Queries: every exact name, every apex and one wildcard name under each apex.
  const queries = [...records.map(([nm]) => nm), ...wildcards.map(([a]) => a), ...wildcards.map(([a]) => `www.${a}`)];
  return { state, records, wildcards, queries };
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) a process has used: a measure the machine's other load does not skew. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

/** Runs a load against a server process and adds its CPU cost per answered query. */
async function measure(pid, run) {
  const before = cpuSeconds(pid);
  const r = await run();
  const used = cpuSeconds(pid) - before;
  return { ...r, cpu_us_per_query: (used * 1e6) / Math.max(1, r.answered ?? r.sent - r.lost) };
}

function freePort(base) {
  return base + Math.floor(Math.random() * 1000);
}

/** Node load generator: `window` queries in flight per socket, for `seconds`; latency per answer. */
export async function nodeLoad(port, names, seconds, sockets = 4, window = 32) {
  const latencies = [];
  let sent = 0;
  let lost = 0;
  const end = performance.now() + seconds * 1000;
  const encoded = names.map((name, i) => dnsPacket.encode({ type: 'query', id: i % 65536, questions: [{ name, type: 'A' }] }));
  await Promise.all(
    Array.from({ length: sockets }, () =>
      new Promise((resolveSocket) => {
        const sock = createSocket('udp4');
        const inflight = new Map(); // id -> sent time
        let next = Math.floor(Math.random() * encoded.length);
        let id = 0;
        const fire = () => {
          if (performance.now() >= end) return;
          const q = Buffer.from(encoded[next++ % encoded.length]);
          id = (id + 1) % 65536;
          q.writeUInt16BE(id, 0);
          inflight.set(id, performance.now());
          sent++;
          sock.send(q, port, '127.0.0.1');
        };
        sock.on('message', (msg) => {
          const rid = msg.readUInt16BE(0);
          const t = inflight.get(rid);
          if (t === undefined) return;
          inflight.delete(rid);
          latencies.push(performance.now() - t);
          fire();
        });
        sock.bind(0, '127.0.0.1', () => {
          for (let i = 0; i < window; i++) fire();
        });
        setTimeout(() => {
          lost += inflight.size;
          sock.close();
          resolveSocket();
        }, seconds * 1000 + 500);
      }),
    ),
  );
  latencies.sort((a, b) => a - b);
  const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { qps: latencies.length / seconds, p99_ms: p(0.99), avg_ms: latencies.reduce((a, b) => a + b, 0) / latencies.length, sent, lost };
}

/**
 * dnsperf, twice: a closed-loop run (100 queries in flight) for the throughput, then a run at a
 * fixed rate with -v (one line per answer, latency last) for the p99, which dnsperf does not
 * print itself. Parsing -v output at full speed would steal the CPU being measured.
 */
function runDnsperf(args) {
  return new Promise((resolvePerf, reject) => {
    const p = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const latencies = [];
    let rest = '';
    let summary = '';
    p.stdout.on('data', (c) => {
      const lines = (rest + c.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        if (l.startsWith('> ')) {
          const v = Number(l.slice(l.lastIndexOf(' ') + 1));
          if (Number.isFinite(v)) latencies.push(v * 1000);
        } else summary += `${l}\n`;
      }
    });
    p.stderr.on('data', () => undefined);
    p.on('error', reject);
    p.on('close', () => {
      latencies.sort((a, b) => a - b);
      const num = (re) => Number(re.exec(summary)?.[1] ?? NaN);
      resolvePerf({
        qps: num(/Queries per second:\s+([\d.]+)/),
        sent: num(/Queries sent:\s+(\d+)/),
        lost: num(/Queries lost:\s+(\d+)/),
        avg_ms: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
        p99_ms: latencies[Math.floor(0.99 * latencies.length)] ?? NaN,
      });
    });
  });
}

async function dnsperfLoad(port, names, seconds, dir, rate) {
  const file = join(dir, `queries-${port}.txt`);
  writeFileSync(file, names.map((n) => `${n} A`).join('\n') + '\n');
  const base = ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-t', '2'];
  const max = await runDnsperf([...base, '-l', String(seconds), '-q', '100']);
  const paced = await runDnsperf([...base, '-l', String(Math.max(2, Math.ceil(seconds / 2))), '-q', '100', '-Q', String(rate), '-v']);
  return { qps: max.qps, sent: max.sent + paced.sent, lost: max.lost + paced.lost, p99_ms: paced.p99_ms, avg_ms: paced.avg_ms };
}

async function waitForAnswer(port, name) {
  for (let i = 0; i < 100; i++) {
    if ((await queryOnce(port, name, 100)).rcode !== 'TIMEOUT') return;
    await sleep(50);
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

/** `rate`: queries/s of the latency run (the same for both servers, well below either's maximum). */
export async function benchDns({ seconds = 5, environments = 50, rate = 2000 } = {}) {
  if (!existsSync(CLI)) throw new Error('dist/cilo.js is missing: run `node scripts/build.mjs` first.');
  const dir = mkdtempSync(join(tmpdir(), 'cilo-bench-dns-'));
  chmodSync(dir, 0o755); // dnsmasq drops to nobody and must read its hosts file
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  const ciloPort = freePort(41000);
  const { state, records, wildcards, queries } = fixture(environments, ciloPort);
  writeFileSync(join(home, 'state.json'), JSON.stringify(state, null, 2));
  const env = { ...process.env, CILO_HOME: home, CILO_DNS_PORT: String(ciloPort) };
  const generator = has('dnsperf') ? 'dnsperf' : 'node';
  const load = (port) => (generator === 'dnsperf' ? dnsperfLoad(port, queries, seconds, dir, rate) : nodeLoad(port, queries, seconds));
  const results = [];
  let dnsmasq;
  try {
    const start = spawnSync(process.execPath, [CLI, 'dns', 'start'], { env, encoding: 'utf8' });
    if (start.status !== 0) throw new Error(`cilo dns start failed: ${start.stderr}`);
    await waitForAnswer(ciloPort, queries[0]);
    const ciloPid = Number(readFileSync(join(home, 'dns', 'dns.pid'), 'utf8').trim());
    results.push({ server: 'cilo', ...(await measure(ciloPid, () => load(ciloPort))) });

    if (has('dnsmasq')) {
      const hosts = join(dir, 'hosts');
      writeFileSync(hosts, records.map(([n, ip]) => `${ip} ${n}`).join('\n') + '\n');
      chmodSync(hosts, 0o644);
      const port = freePort(42000);
      dnsmasq = spawn('dnsmasq', [
        '--keep-in-foreground',
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        `--addn-hosts=${hosts}`,
        `--pid-file=${join(dir, 'dnsmasq.pid')}`,
        // The apex and wildcard names, as cilo serves them.
        ...wildcards.map(([apex, ip]) => `--address=/${apex}/${ip}`),
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      dnsmasq.stderr.on('data', (c) => (err += c));
      await waitForAnswer(port, queries[0]).catch((e) => {
        throw new Error(`${e.message}; dnsmasq said: ${err}`);
      });
      results.push({ server: 'dnsmasq', ...(await measure(dnsmasq.pid, () => load(port))) });
    }
  } finally {
    spawnSync(process.execPath, [CLI, 'dns', 'stop'], { env });
    dnsmasq?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const cilo = results.find((r) => r.server === 'cilo');
  const other = results.find((r) => r.server === 'dnsmasq');
  return {
    environments,
    names: queries.length,
    seconds,
    generator,
    rate,
    results,
    ratio: other && cilo ? { qps: cilo.qps / other.qps, p99: cilo.p99_ms / other.p99_ms, cpu: cilo.cpu_us_per_query / other.cpu_us_per_query } : null,
  };
}

/** One A query over UDP: its rcode and addresses, or rcode TIMEOUT after `timeoutMs`. */
export async function queryOnce(port, name, timeoutMs = 1000) {
  const sock = createSocket('udp4');
  try {
    return await new Promise((res) => {
      const t = setTimeout(() => res({ rcode: 'TIMEOUT', ips: [] }), timeoutMs);
      sock.on('message', (m) => {
        clearTimeout(t);
        const p = dnsPacket.decode(m);
        res({ rcode: p.rcode, ips: (p.answers ?? []).filter((x) => x.type === 'A').map((x) => x.data) });
      });
      sock.send(dnsPacket.encode({ type: 'query', id: 7, questions: [{ name, type: 'A' }] }), port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

/** Milliseconds from now until `check` (a query) first holds, asking about once per millisecond; NaN after 5 s. */
async function msUntil(check) {
  const t0 = performance.now();
  while (performance.now() - t0 < 5000) {
    if (await check()) return performance.now() - t0;
    await sleep(1);
  }
  return NaN;
}

/**
 * How soon the running DNS server answers a change of state: from the moment a state
 * transaction returns (withStateLock, as every cilo command writes state) to the first query
 * that sees it, for `changes` environments added and then removed, over a state of
 * `environments` others. The SPEC promises 100 ms; the test suite only checks that it happens.
 */
export async function benchDnsFollow({ changes = 10, environments = 50 } = {}) {
  if (!existsSync(CLI)) throw new Error('dist/cilo.js is missing: run `node scripts/build.mjs` first.');
  const { withStateLock } = await tsImport('../src/state/store.ts', import.meta.url);
  const { ciloPaths } = await tsImport('../src/state/paths.ts', import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'cilo-bench-follow-'));
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  const port = freePort(43000);
  const { state, queries } = fixture(environments, port);
  writeFileSync(join(home, 'state.json'), JSON.stringify(state, null, 2));
  const env = { ...process.env, CILO_HOME: home, CILO_DNS_PORT: String(port) };
  const paths = ciloPaths(home);
  const add = [];
  const remove = [];
  try {
    const start = spawnSync(process.execPath, [CLI, 'dns', 'start'], { env, encoding: 'utf8' });
    if (start.status !== 0) throw new Error(`cilo dns start failed: ${start.stderr}`);
    await waitForAnswer(port, queries[0]);
    for (let i = 0; i < changes; i++) {
      const name = `follow-${i}`;
      const net = `10.210.${i}`;
      await withStateLock((s) => {
        s.environments[name] = environment(name, 'follow', net);
      }, paths);
      add.push(await msUntil(async () => (await queryOnce(port, `web.${name}.test`, 500)).ips.join() === `${net}.2`));
      await withStateLock((s) => {
        delete s.environments[name];
      }, paths);
      remove.push(await msUntil(async () => (await queryOnce(port, `web.${name}.test`, 500)).rcode === 'NXDOMAIN'));
    }
  } finally {
    spawnSync(process.execPath, [CLI, 'dns', 'stop'], { env });
    rmSync(dir, { recursive: true, force: true });
  }
  return { environments, changes, add, remove };
}

function fmt(n, digits) {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const seconds = Number(process.argv[2] ?? 5);
  const r = await benchDns({ seconds });
  console.log(`DNS on 127.0.0.1, ${r.environments} running environments (${r.names} names asked round-robin), ${r.seconds} s each, load from ${r.generator}.`);
  if (r.generator === 'dnsperf') console.log(`queries/s: 100 queries in flight; latency: a second run paced at ${r.rate} queries/s.`);
  else console.log('queries/s and latency from the same closed loop (4 sockets x 32 queries in flight).');
  console.log('');
  console.log('| server | queries/s | p99 latency (ms) | mean latency (ms) | server CPU per query (µs) | sent | lost |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const x of r.results) console.log(`| ${x.server} | ${fmt(x.qps, 0)} | ${fmt(x.p99_ms, 3)} | ${fmt(x.avg_ms, 3)} | ${fmt(x.cpu_us_per_query, 1)} | ${x.sent} | ${x.lost} |`);
  if (r.ratio) console.log(`\ncilo / dnsmasq: ${fmt(r.ratio.qps, 2)}× the queries/s, ${fmt(r.ratio.p99, 2)}× the p99 latency, ${fmt(r.ratio.cpu, 2)}× the CPU per query.`);
  else console.log('\n(dnsmasq is not installed: no comparison. Debian: apt-get install dnsmasq-base)');
  const f = await benchDnsFollow();
  const worst = (xs) => fmt(Math.max(...xs), 1);
  console.log(`\nState change to DNS answer (${f.changes} changes, ${f.environments} other environments): add worst ${worst(f.add)} ms, remove worst ${worst(f.remove)} ms (SPEC: within 100 ms).`);
}
