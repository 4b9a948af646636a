// The dashboard's snapshot (issue 27, "Dashboard speed"), run by bench/run.mjs with its helpers:
//
//   ui-snapshot   GET /api/snapshot of a running `cilo ui` over 20 environments, each with its
//                 private database in one shared postgres, vs `cilo list --json` of the same
//                 environments (a whole CLI process); and the same snapshot against `cilo shared
//                 list --json`, which measures every dataset's size live, as each snapshot did
//                 before the dashboard kept them.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

const N = 20;
const PER_RUN = 4;

function pgProject(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
  db:
    image: cilo-fixture/postgres:15
    environment: { POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: shop }
    labels:
      cilo.share: "true"
      cilo.share.isolate: database
      cilo.share.connection-limit: "${N * 3}"
  api:
    image: cilo-fixture/busybox:1
    init: true
    command: ["sleep", "86400"]
    environment: { DATABASE_URL: "postgres://app:app@db:5432/shop" }
`,
  );
}

function httpCall(port, method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** `cilo ui --port 0 --json --all` of the home, in the foreground of a child process; resolves once it printed its URL. */
function startUi(cli, env) {
  const child = spawn(process.execPath, [cli, 'ui', '--port', '0', '--json', '--all'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.once('exit', (code) => reject(new Error(`cilo ui exited with ${code}: ${err}`)));
    child.stdout.on('data', (c) => {
      out += c;
      try {
        const r = JSON.parse(out);
        resolve({ port: r.port, token: /#token=([A-Za-z0-9_-]+)$/.exec(r.url)?.[1] ?? '', stop });
      } catch {
        // more to come
      }
    });
  });
}

export async function benchUiSnapshot(tools, { runs }) {
  const { makeHome, withCleanup, row, log, fmtMs, cli } = tools;
  const { ensureDbImages } = await tsImport('../test/support/fixture-images.ts', import.meta.url);
  const reason = ensureDbImages();
  if (reason) throw new Error(`cannot build the database fixture images: ${reason}`);
  const h = await makeHome('uisnap');
  const dir = join(h.dir, 'shop');
  pgProject(dir);
  let ui;
  return withCleanup(
    async () => {
      await ui?.stop();
      await h.cleanup();
    },
    async () => {
      await h.init();
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await h.cilo(['up', `e${i}`, '--from', dir, '--project', h.project]);
      log(`ui-snapshot: ${N} environments up, each with its database in the shared postgres, in ${fmtMs(performance.now() - t0)}`);
      ui = await startUi(cli(), h.env);
      const signIn = await httpCall(ui.port, 'POST', '/api/session', { headers: { origin: `http://127.0.0.1:${ui.port}`, 'content-type': 'application/json' }, body: JSON.stringify({ token: ui.token }) });
      if (signIn.status !== 204) throw new Error(`sign-in answered ${signIn.status}: ${signIn.body}`);
      const cookie = String(signIn.headers['set-cookie']?.[0] ?? '').split(';')[0];
      const snapshot = async () => {
        const s0 = performance.now();
        const r = await httpCall(ui.port, 'GET', '/api/snapshot', { headers: { cookie } });
        const ms = performance.now() - s0;
        if (r.status !== 200) throw new Error(`GET /api/snapshot answered ${r.status}: ${r.body}`);
        const snap = JSON.parse(r.body);
        if (snap.environments.length !== N) throw new Error(`the snapshot showed ${snap.environments.length} environments, expected ${N}`);
        return { ms, sized: (snap.shared[0]?.datasets ?? []).filter((d) => d.size !== null).length };
      };
      const ours = [];
      const base = [];
      const live = [];
      let sized = 0;
      for (let i = -1; i < runs * PER_RUN; i++) {
        const s = await snapshot();
        sized = s.sized;
        const l = await h.cilo(['list', '--json']);
        if (JSON.parse(l.stdout).length !== N) throw new Error(`cilo list --json listed ${JSON.parse(l.stdout).length} environments, expected ${N}`);
        const sh = await h.cilo(['shared', 'list', '--json']);
        if (i < 0) continue; // the first: the server's first engine calls
        ours.push(s.ms);
        base.push(l.ms);
        live.push(sh.ms);
      }
      log(`ui-snapshot: snapshot ${fmtMs(ours.reduce((a, b) => a + b) / ours.length)} mean, cilo list --json ${fmtMs(base.reduce((a, b) => a + b) / base.length)} mean, cilo shared list --json (sizes measured live) ${fmtMs(live.reduce((a, b) => a + b) / live.length)} mean; ${sized}/${N} sizes known in the last snapshot`);
      return [
        row({
          id: 'ui-snapshot',
          measure: `dashboard snapshot (GET /api/snapshot), ${N} running environments, each with a private database in one shared postgres`,
          ours,
          baseLabel: '`cilo list --json` of the same environments',
          base,
          target: { ratio: 1.0 },
          note: `${sized}/${N} sizes known in the last snapshot`,
        }),
        row({
          id: 'ui-snapshot-live-sizes',
          measure: `extra: the same snapshot against measuring the ${N} sizes live (\`cilo shared list --json\`, as each snapshot did before)`,
          ours,
          baseLabel: '`cilo shared list --json` of the same',
          base: live,
          target: { ratio: 0.5 },
        }),
      ];
    },
  );
}
