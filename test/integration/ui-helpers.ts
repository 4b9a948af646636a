/**
 * Helpers of the `cilo ui` tests: the built CLI's dashboard as a child process (stopped by its
 * pid), and plain HTTP requests whose Host and Origin headers the test chooses (fetch would not
 * let it set Host).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { CLI, type TestHome } from './helpers.js';

export interface RunningUi {
  url: string;
  port: number;
  token: string;
  pid: number;
  stop: () => Promise<void>;
}

/** Starts `cilo ui --port 0 --json ...` in `h` and reads the URL it prints. */
export function startUi(h: TestHome, args: string[] = ['--all']): Promise<RunningUi> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'ui', '--port', '0', '--json', ...args], { env: h.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`cilo ui printed no URL within 60 s: ${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cilo ui exited with ${code}: ${stderr}`));
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      let r: { url: string; port: number; pid: number };
      try {
        r = JSON.parse(out) as typeof r; // one JSON document, maybe over several chunks
      } catch {
        return;
      }
      clearTimeout(timer);
      const token = /#token=([A-Za-z0-9_-]+)$/.exec(r.url)?.[1] ?? '';
      resolve({ url: r.url, port: r.port, pid: r.pid, token, stop });
    });
  });
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function http(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...(opts.headers ?? {}) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Signs in as the page does; returns the Cookie header to send. */
export async function signIn(ui: RunningUi): Promise<string> {
  const r = await http(ui.port, 'POST', '/api/session', {
    headers: { origin: `http://127.0.0.1:${ui.port}`, 'content-type': 'application/json' },
    body: JSON.stringify({ token: ui.token }),
  });
  if (r.status !== 204) throw new Error(`sign-in answered ${r.status}: ${r.body}`);
  const cookie = (r.headers['set-cookie'] ?? [])[0] ?? '';
  return cookie.split(';')[0] ?? '';
}

export interface EventStream {
  /** Resolves with the data of the first event of this name whose data passes `match`. */
  next: (event: string, match?: (data: unknown) => boolean, timeoutMs?: number) => Promise<unknown>;
  close: () => void;
}

/** Opens a server-sent event stream and collects its events. */
export function openEvents(port: number, path: string, cookie: string): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const seen: { event: string; data: unknown }[] = [];
    const waiters = new Set<() => void>();
    const req = request({ host: '127.0.0.1', port, method: 'GET', path, headers: { host: `127.0.0.1:${port}`, cookie } }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${path} answered ${res.statusCode}`));
        return;
      }
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) seen.push({ event, data: JSON.parse(data) as unknown });
        }
        for (const w of waiters) w();
      });
      res.on('error', () => undefined);
      resolve({
        next: (event, match = () => true, timeoutMs = 60_000) =>
          new Promise((res2, rej2) => {
            const check = (): void => {
              const hit = seen.find((s) => s.event === event && match(s.data));
              if (hit) {
                waiters.delete(check);
                clearTimeout(timer);
                res2(hit.data);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej2(new Error(`no "${event}" event matched within ${timeoutMs} ms; saw ${JSON.stringify(seen).slice(-2000)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', (e) => (waiters.size === 0 ? undefined : reject(e)));
    req.end();
  });
}
