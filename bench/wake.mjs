// Benchmark of the wake of an idle-paused environment (issue #26), run by bench/run.mjs with its
// helpers (`tools`):
//
//   wake   An environment (busybox web + api) is started with `--idle-pause 2s`; the DNS
//          server's supervisor pauses it once it has been unused that long. Then, each round:
//          the first DNS query for web.<env>.test (time until the answer, which the server sends
//          only once the environment is thawed), then the first HTTP request to the answered
//          address. Baselines: the same query and request for a running environment of the same
//          home. Reported: p50 and p99 of the first answer (target p99 < 1 s), and p50 of the
//          first HTTP request after the wake.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { queryOnce } from './dns.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function project(image) {
  const svc = (name, port) =>
    `  ${name}:\n    image: ${image}\n    init: true\n    command: ["sh", "-c", "mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p ${port} -h /www"]\n    expose: ["${port}"]\n`;
  return `services:\n${svc('web', 8080)}${svc('api', 9000)}`;
}

function envOf(home, name) {
  try {
    return JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')).environments?.[name];
  } catch {
    return undefined; // mid-rename: the next read has it
  }
}

function get(ip, port) {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, path: '/', timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
    req.end();
  });
}

/** The `q`-quantile of `xs` (nearest rank). */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export async function benchWake(tools, { runs }) {
  const { makeHome, withCleanup, row, log, fmtMs, image } = tools;
  const rounds = Math.max(10, runs * 5);
  const h = await makeHome('wake');
  const dir = join(h.dir, 'shop');
  return withCleanup(h.cleanup, async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'compose.yaml'), project(image));
    await h.init();
    await h.cilo(['up', 'sleepy', '--from', dir, '--project', h.project, '--idle-pause', '2s']);
    await h.cilo(['up', 'awake', '--from', dir, '--project', h.project, '--idle-pause', '0']);
    const wakes = [];
    const firstHttp = [];
    const runningDns = [];
    const runningHttp = [];
    for (let r = 0; r < rounds; r++) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const e = envOf(h.home, 'sleepy');
        if (e?.status === 'paused' && e.paused_by === 'idle') break;
        if (Date.now() > deadline) throw new Error(`sleepy was not paused for being idle within 60 s (status ${e?.status})`);
        await sleep(50);
      }
      const t0 = performance.now();
      const a = await queryOnce(h.port, 'web.sleepy.test', 10_000);
      const t1 = performance.now();
      if (a.rcode !== 'NOERROR' || a.ips.length !== 1) throw new Error(`the first query for web.sleepy.test got ${a.rcode} ${a.ips.join(',')}`);
      if (envOf(h.home, 'sleepy')?.status !== 'running') throw new Error('web.sleepy.test was answered before sleepy ran again');
      await get(a.ips[0], 8080);
      const t2 = performance.now();
      wakes.push(t1 - t0);
      firstHttp.push(t2 - t1);
      // The same for an environment that runs: what any first query and request cost here.
      const b0 = performance.now();
      const b = await queryOnce(h.port, 'web.awake.test', 10_000);
      const b1 = performance.now();
      await get(b.ips[0], 8080);
      runningDns.push(b1 - b0);
      runningHttp.push(performance.now() - b1);
      log(`wake round ${r + 1}: first answer ${fmtMs(t1 - t0)}, first HTTP after it ${fmtMs(t2 - t1)} (running: ${fmtMs(b1 - b0)}, ${fmtMs(performance.now() - b1)})`);
    }
    const note = `${rounds} wakes of an environment of 2 containers paused by the supervisor after --idle-pause 2s`;
    return [
      row({ id: 'wake-dns-p50', measure: 'wake: first DNS answer for an idle-paused environment, p50', ours: [quantile(wakes, 0.5)], baseLabel: 'a running environment\'s first answer, p50', base: [quantile(runningDns, 0.5)], target: { none: true }, note }),
      row({ id: 'wake-dns-p99', measure: 'wake: first DNS answer for an idle-paused environment, p99', ours: [quantile(wakes, 0.99)], baseLabel: 'a running environment\'s first answer, p99', base: [quantile(runningDns, 0.99)], target: { max: 1000 }, note }),
      row({ id: 'wake-http', measure: 'wake: first HTTP request by address after that answer, p50', ours: [quantile(firstHttp, 0.5)], baseLabel: 'the same request to a running environment, p50', base: [quantile(runningHttp, 0.5)], target: { none: true }, note }),
    ];
  });
}
