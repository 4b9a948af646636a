// The loopback router (issue 25, "Benchmark"), run by bench/run.mjs with its helpers:
//
//   router-latency  the same GET of a busybox httpd page, through cilo's router (127.0.0.1:<port>,
//                   Host: web.<env><suffix>) against direct to the container's address (root on
//                   Linux reaches it): p50 and p99 per request and requests/s, REQUESTS requests over
//                   keep-alive connections, one at a time and with 8 at once; and, to tell the hops
//                   apart, the same to the router container's own address (Caddy without Docker's
//                   loopback forwarding, docker-proxy).
//   router-first    the time from `cilo up` returning (a fresh environment) to the first request by
//                   name through the router that gets the environment's page.
//
// Only reported: nothing fails on a duration.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

const REQUESTS = 2000;
const CONCURRENCY = 8;
const FIRST_POLL_MS = 5;

function webProject(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
  web:
    image: cilo-fixture/busybox:1
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo web-of-$$(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www"]
    expose: ["8080"]
`,
  );
}

async function freeTcpPort() {
  for (;;) {
    const port = 41000 + Math.floor(Math.random() * 9000);
    const free = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function get(agent, host, port, hostHeader, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', agent, headers: { host: hostHeader }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** REQUESTS GETs over keep-alive, `concurrency` at a time; every answer must be 200 with `expect`. */
async function load(target, concurrency, expect) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const times = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < REQUESTS) {
      next += 1;
      const s = performance.now();
      const r = await get(agent, target.host, target.port, target.hostHeader);
      times.push(performance.now() - s);
      if (r.status !== 200 || r.body.trim() !== expect) throw new Error(`${target.label} answered ${r.status}: ${r.body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const total = performance.now() - t0;
  agent.destroy();
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p99: pct(times, 99), rps: (REQUESTS / total) * 1000 };
}

function hostOf(url) {
  return new URL(url).hostname;
}

export async function benchRouter(tools, { runs }) {
  const { makeHome, withCleanup, row, log, fmtMs } = tools;
  const { ensureCaddyImage, CADDY_IMAGE } = await tsImport('../test/support/caddy-image.ts', import.meta.url);
  const reason = ensureCaddyImage();
  if (reason) throw new Error(`cannot build the router's test image: ${reason}`);
  const h = await makeHome('router');
  // Debian's caddy, built offline (test/support/caddy-image.sh): no registry.
  h.env.CILO_ROUTER_IMAGE = CADDY_IMAGE;
  const dir = join(h.dir, 'site');
  webProject(dir);
  return withCleanup(
    () => h.cleanup(),
    async () => {
      const httpPort = await freeTcpPort();
      const httpsPort = await freeTcpPort();
      await h.cilo(['init', '--base-subnet', h.baseSubnet, '--dns-port', String(h.port), '--routing', 'router', '--router-http-port', String(httpPort), '--router-https-port', String(httpsPort)]);
      await h.cilo(['up', 'e0', '--from', dir, '--project', h.project]);
      const m = JSON.parse((await h.cilo(['status', 'e0', '--json', '--project', h.project])).stdout);
      const web = m.services.find((s) => s.name === 'web');
      const name = hostOf(web.url);
      const direct = { label: 'direct', host: web.ip, port: 8080, hostHeader: `${web.ip}:8080` };
      const routed = { label: 'router', host: '127.0.0.1', port: httpPort, hostHeader: name };
      // The router container's own address on e0's network: the same proxy without Docker's
      // loopback port forwarding (docker-proxy), to tell the two hops apart.
      const router = JSON.parse((await h.cilo(['router', 'status', '--json'])).stdout).container?.name;
      const routerIp = spawnSync('docker', ['inspect', '--format', `{{(index .NetworkSettings.Networks "${m.network}").IPAddress}}`, router], { encoding: 'utf8' }).stdout.trim();
      const proxied = { label: 'router-addr', host: routerIp, port: 80, hostHeader: name };
      const first = await get(undefined, direct.host, direct.port, direct.hostHeader);
      const expect = first.body.trim();
      log(`router: ${name} via 127.0.0.1:${httpPort} against ${web.ip}:8080 (${expect})`);
      const r = { seq: { router: [], direct: [], 'router-addr': [] }, par: { router: [], direct: [], 'router-addr': [] } };
      // One untimed round of each warms connections and caches; then both alternate.
      for (let i = -1; i < runs; i++) {
        for (const [mode, conc] of [
          ['seq', 1],
          ['par', CONCURRENCY],
        ]) {
          const order = i % 2 === 0 ? [routed, direct, proxied] : [proxied, direct, routed];
          for (const t of order) {
            const got = await load(t, conc, expect);
            if (i >= 0) r[mode][t.label].push(got);
          }
        }
        if (i >= 0) log(`router run ${i + 1}: sequential p50 ${fmtMs(r.seq.router.at(-1).p50)} via router, ${fmtMs(r.seq.direct.at(-1).p50)} direct; ${CONCURRENCY} at once ${Math.round(r.par.router.at(-1).rps)}/s via router, ${Math.round(r.par.direct.at(-1).rps)}/s direct`);
      }
      // Time from `up` returning to the first request by name through the router that gets the page.
      const firsts = [];
      const polls = [];
      for (let i = 1; i <= runs; i++) {
        const env = `f${i}`;
        await h.cilo(['up', env, '--from', dir, '--project', h.project]);
        const t0 = performance.now();
        const host = `web.${env}${name.slice(name.indexOf('.', name.indexOf('.') + 1))}`;
        let n = 0;
        for (;;) {
          n += 1;
          const a = await get(undefined, '127.0.0.1', httpPort, host, 2000).catch(() => undefined);
          if (a?.status === 200 && a.body.startsWith('web-of-')) break;
          if (performance.now() - t0 > 60_000) throw new Error(`no answer from ${host} through the router 60 s after up returned (last: ${a?.status})`);
          await new Promise((res) => setTimeout(res, FIRST_POLL_MS));
        }
        firsts.push(performance.now() - t0);
        polls.push(n);
        await h.cilo(['destroy', env, '--force', '--project', h.project]);
      }
      log(`router-first: ${firsts.map((x) => fmtMs(x)).join(', ')} (requests until the page: ${polls.join(', ')})`);
      const added = (mode, key) => {
        const a = r[mode].router.map((x) => x[key]).sort((x, y) => x - y);
        const b = r[mode].direct.map((x) => x[key]).sort((x, y) => x - y);
        return fmtMs(a[Math.floor(a.length / 2)] - b[Math.floor(b.length / 2)]);
      };
      const pick = (mode, who, key) => r[mode][who].map((x) => x[key]);
      const fmtQps = (q) => `${Math.round(q).toLocaleString('en-US')}/s`;
      const base = '`direct` to the container address';
      return [
        row({ id: 'router-seq-p50', measure: `request through the router, p50, ${REQUESTS} sequential over keep-alive`, ours: pick('seq', 'router', 'p50'), baseLabel: base, base: pick('seq', 'direct', 'p50'), target: { none: true }, note: `added by the router: p50 ${added('seq', 'p50')}, p99 ${added('seq', 'p99')}` }),
        row({ id: 'router-seq-p99', measure: 'the same, p99', ours: pick('seq', 'router', 'p99'), baseLabel: base, base: pick('seq', 'direct', 'p99'), target: { none: true } }),
        row({ id: 'router-seq-rps', measure: 'the same, requests/s', ours: pick('seq', 'router', 'rps'), baseLabel: base, base: pick('seq', 'direct', 'rps'), fmt: fmtQps, better: 'higher', target: { none: true } }),
        row({ id: 'router-c8-p50', measure: `request through the router, p50, ${REQUESTS} with ${CONCURRENCY} at once over keep-alive`, ours: pick('par', 'router', 'p50'), baseLabel: base, base: pick('par', 'direct', 'p50'), target: { none: true }, note: `added by the router: p50 ${added('par', 'p50')}, p99 ${added('par', 'p99')}` }),
        row({ id: 'router-c8-p99', measure: 'the same, p99', ours: pick('par', 'router', 'p99'), baseLabel: base, base: pick('par', 'direct', 'p99'), target: { none: true } }),
        row({ id: 'router-c8-rps', measure: 'the same, requests/s', ours: pick('par', 'router', 'rps'), baseLabel: base, base: pick('par', 'direct', 'rps'), fmt: fmtQps, better: 'higher', target: { none: true } }),
        row({ id: 'router-addr-seq-p50', measure: "extra: the router's own address (no docker-proxy), p50, sequential", ours: pick('seq', 'router-addr', 'p50'), baseLabel: base, base: pick('seq', 'direct', 'p50'), target: { none: true } }),
        row({ id: 'router-addr-c8-rps', measure: "extra: the router's own address (no docker-proxy), requests/s, 8 at once", ours: pick('par', 'router-addr', 'rps'), baseLabel: base, base: pick('par', 'direct', 'rps'), fmt: fmtQps, better: 'higher', target: { none: true } }),
        row({ id: 'router-first', measure: '`up` returning → first request by name through the router that gets the page', ours: firsts, target: { none: true }, note: `requests until the page, per run: ${polls.join(', ')} (polled every ${FIRST_POLL_MS} ms)` }),
      ];
    },
  );
}
