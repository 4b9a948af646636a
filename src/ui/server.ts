/**
 * The HTTP server of `cilo ui`: Node's http server on 127.0.0.1 only, one page (assets.ts),
 * a small JSON API, and server-sent events for live updates and log streams. It knows nothing
 * of environments: the data and actions come as a `UiBackend` from the command that starts it
 * (core/dashboard/dashboard.ts), and every request passes the checks of guard.ts first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CiloError } from '../errors.js';
import { uiAssets } from './assets.js';
import { cookieName, cookieValue, hostAllowed, LOOPBACK, newSecret, originAllowed, sameSecret, SECURITY_HEADERS, sessionCookie } from './guard.js';

export type UiAction = 'up' | 'down' | 'pause' | 'destroy';

export interface UiLogLine {
  service: string;
  line: string;
}

/** What the pages show and do; every value it returns is sent as JSON. */
export interface UiBackend {
  snapshot(): Promise<unknown>;
  /** What each environment and shared service uses now, and the machine total: asked by a visible page every few seconds, apart from the snapshot (the Engine's stats take longer). */
  usage(): Promise<unknown>;
  environment(name: string): Promise<unknown>;
  action(action: UiAction, name: string, body: { confirm?: unknown }): Promise<unknown>;
  /** What destroying the environment removes (`{text, containers, volumes, datasets, ...}`), for the dialog. */
  destroyPlan(name: string): Promise<unknown>;
  doctor(): Promise<unknown>;
  logs(name: string, req: { service?: string | undefined; tail?: number | undefined; since?: number | undefined; follow: boolean }, onLine: (l: UiLogLine) => void, signal: AbortSignal): Promise<void>;
  /** Calls `onChange` when what the pages show may have changed, until `signal` aborts. */
  watch(onChange: () => void, signal: AbortSignal): void;
}

export interface UiServerOptions {
  /** 0: a free port chosen by the system. */
  port: number;
  backend: UiBackend;
  /** Problems worth a line in the log (a failed snapshot, an internal error). */
  log?: ((line: string) => void) | undefined;
}

export interface UiServer {
  port: number;
  /** The secret of the printed URL's fragment. */
  token: string;
  /** `http://127.0.0.1:PORT/#token=…`: what a person opens. */
  url: string;
  /** Open event and log streams, for tests and `cilo ui` status. */
  stats(): { event_streams: number; log_streams: number };
  close(): Promise<void>;
}

const ACTIONS: readonly UiAction[] = ['up', 'down', 'pause', 'destroy'];
const MAX_BODY = 64 * 1024;
const HEARTBEAT_MS = 15_000;
const CHANGE_DEBOUNCE_MS = 150;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), extra);
}

/** An error as the page shows it: cilo's own with its code and hint, anything else without details. */
function errorAnswer(e: unknown): { status: number; body: { ok: false; code: string; message: string; hint?: string } } {
  if (e instanceof HttpError) return { status: e.status, body: { ok: false, code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
  if (e instanceof CiloError) {
    const status = e.code === 'ENV_NOT_FOUND' || e.code === 'SERVICE_NOT_FOUND' ? 404 : e.exitCode === 2 ? 400 : 409;
    return { status, body: { ok: false, code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
  }
  return { status: 500, body: { ok: false, code: 'INTERNAL', message: 'cilo ui hit an internal error; its log has the details.' } };
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  // A JSON body cannot come from a plain form of another site without a CORS preflight.
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'USAGE', 'Send a JSON body (content-type: application/json).');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpError(413, 'USAGE', 'The request body is too large.');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // below
  }
  throw new HttpError(400, 'USAGE', 'The request body is not a JSON object.');
}

/** Starts an event stream answer; returns a writer of one event. */
function openEventStream(res: ServerResponse): (event: string, data: unknown) => void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  res.write('retry: 2000\n\n');
  return (event, data) => {
    // A stream may still deliver after the page went: such lines are dropped.
    if (!res.writableEnded && !res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
}

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const log = opts.log ?? (() => undefined);
  const assets = uiAssets();
  const token = newSecret();
  const session = newSecret();
  const stopAll = new AbortController();
  const eventClients = new Set<(event: string, data: unknown) => void>();
  let logStreams = 0;
  let port = opts.port;

  // Live updates: changes are coalesced, and one snapshot is sent to every open page.
  let pending: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  const broadcast = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        if (eventClients.size === 0) break;
        try {
          const snap = await opts.backend.snapshot();
          for (const write of eventClients) write('snapshot', snap);
        } catch (e) {
          const a = errorAnswer(e);
          for (const write of eventClients) write('failure', a.body);
          if (a.status === 500) log(`snapshot failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        }
      } while (again);
    } finally {
      running = false;
    }
  };
  const changed = (): void => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      void broadcast();
    }, CHANGE_DEBOUNCE_MS);
  };

  const authenticated = (req: IncomingMessage): boolean => sameSecret(cookieValue(req.headers.cookie, cookieName(port)), session);

  async function handleEvents(res: ServerResponse): Promise<void> {
    const write = openEventStream(res);
    eventClients.add(write);
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    res.on('close', () => {
      clearInterval(beat);
      eventClients.delete(write);
    });
    try {
      write('snapshot', await opts.backend.snapshot());
    } catch (e) {
      write('failure', errorAnswer(e).body);
    }
  }

  async function handleLogs(req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
    const service = query.get('service') || undefined;
    const whole = (name: string, digits: number): number | undefined => {
      const text = query.get(name);
      return text !== null && new RegExp(`^\\d{1,${digits}}$`).test(text) ? Number(text) : undefined;
    };
    const tail = whole('tail', 6);
    const since = whole('since', 12);
    const follow = query.get('follow') === '1';
    const abort = new AbortController();
    const stopOnServerClose = (): void => abort.abort();
    stopAll.signal.addEventListener('abort', stopOnServerClose, { once: true });
    // The page closed (or moved on): end the Engine's streams too.
    res.on('close', () => abort.abort());
    const write = openEventStream(res);
    logStreams += 1;
    try {
      await opts.backend.logs(name, { service, tail, since, follow }, (l) => write('line', l), abort.signal);
      if (!abort.signal.aborted) write('end', {});
    } catch (e) {
      const a = errorAnswer(e);
      if (a.status === 500) log(`log stream of ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!abort.signal.aborted) write('failure', a.body);
    } finally {
      logStreams -= 1;
      stopAll.signal.removeEventListener('abort', stopOnServerClose);
      res.end();
    }
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'POST' && !originAllowed(req.headers.origin, port)) {
      throw new HttpError(403, 'FORBIDDEN', 'Refused: this request does not come from the cilo ui page (Origin).');
    }
    if (path === '/api/session' && method === 'POST') {
      const body = await readJsonBody(req);
      if (!sameSecret(typeof body.token === 'string' ? body.token : undefined, token)) {
        throw new HttpError(401, 'UNAUTHORIZED', 'The token is not the one cilo ui printed.', 'Open the URL `cilo ui` printed, with its #token=… part.');
      }
      res.writeHead(204, { ...SECURITY_HEADERS, 'set-cookie': sessionCookie(port, session) });
      res.end();
      return;
    }
    if (!authenticated(req)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'Not signed in to cilo ui.', 'Open the URL `cilo ui` printed, with its #token=… part.');
    }
    const env = /^\/api\/env\/([^/]+)(?:\/([a-z]+))?$/.exec(path);
    if (method === 'GET' && path === '/api/snapshot') return sendJson(res, 200, await opts.backend.snapshot());
    if (method === 'GET' && path === '/api/usage') return sendJson(res, 200, await opts.backend.usage());
    if (method === 'GET' && path === '/api/events') return handleEvents(res);
    if (method === 'GET' && path === '/api/server') return sendJson(res, 200, { pid: process.pid, port, ...stats() });
    if (method === 'POST' && path === '/api/doctor') {
      await readJsonBody(req);
      return sendJson(res, 200, await opts.backend.doctor());
    }
    if (env?.[1] !== undefined) {
      const name = decodeURIComponent(env[1]);
      const sub = env[2];
      if (method === 'GET' && sub === undefined) return sendJson(res, 200, await opts.backend.environment(name));
      if (method === 'GET' && sub === 'logs') return handleLogs(req, res, name, url.searchParams);
      if (method === 'GET' && sub === 'destroy') return sendJson(res, 200, await opts.backend.destroyPlan(name));
      if (method === 'POST' && sub !== undefined && (ACTIONS as readonly string[]).includes(sub)) {
        const body = await readJsonBody(req);
        const result = await opts.backend.action(sub as UiAction, name, { confirm: body.confirm });
        changed();
        return sendJson(res, 200, result);
      }
    }
    throw new HttpError(404, 'NOT_FOUND', `No ${method} ${path} here.`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Before anything else: a Host other than this loopback address and port is a DNS rebinding attempt.
    if (!hostAllowed(req.headers.host, port)) {
      send(res, 421, 'text/plain; charset=utf-8', `Refused: cilo ui answers only to http://${LOOPBACK}:${port}/ (Host header).\n`);
      return;
    }
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port}`);
    try {
      if (url.pathname.startsWith('/api/')) {
        await handleApi(req, res, url);
        return;
      }
      const asset = req.method === 'GET' || req.method === 'HEAD' ? assets.get(url.pathname) : undefined;
      if (!asset) throw new HttpError(404, 'NOT_FOUND', 'Not found.');
      send(res, 200, asset.type, asset.body);
    } catch (e) {
      const a = errorAnswer(e);
      if (a.status === 500) log(`${req.method} ${url.pathname} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (res.headersSent) res.end();
      else sendJson(res, a.status, a.body);
    }
  }

  const stats = (): { event_streams: number; log_streams: number } => ({ event_streams: eventClients.size, log_streams: logStreams });

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        reject(new CiloError('USAGE', `Port ${opts.port} on ${LOOPBACK} is already in use.`, { hint: 'Pass another --port, or leave it out to use a free one.', exitCode: 1 }));
      } else reject(e);
    });
    server.listen(opts.port, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  opts.backend.watch(changed, stopAll.signal);

  return {
    port,
    token,
    url: `http://${LOOPBACK}:${port}/#token=${token}`,
    stats,
    close: async () => {
      stopAll.abort();
      if (pending) clearTimeout(pending);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Event streams never end by themselves: close their connections.
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
