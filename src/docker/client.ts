import { cgroupStats } from './cgroup-stats.js';
import type { IncomingMessage, RequestOptions } from 'node:http';
import type { ContainerInspect, ContainerStats, ContainerSummary, EngineEvent, EngineInfo, Filters, LogStreamOptions, NetworkInspect, VolumeInfo, VolumeInspect } from '../domain/engine.js';
import * as v from 'valibot';
import { CiloError, DockerApiError } from '../errors.js';
import { JsonLinesReader, LogLineReader } from './log-frames.js';
import { ContainerInspectSchema, ContainerSummarySchema, IdSchema, StatsSchema, InfoSchema, NetworkInspectSchema, VolumeInspectSchema, VolumeListSchema, WaitSchema } from './shapes.js';

/**
 * A small Docker Engine API client over node:http. It negotiates the API version with
 * `/_ping` (Engine 20.10 speaks 1.41, Engine 29 needs >= 1.44), so no version is pinned.
 */

export interface DockerEndpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  /** How DOCKER_HOST was spelled, for error messages. */
  display: string;
  /** What to do when it does not answer (default: start Docker here or fix DOCKER_HOST). */
  unreachableHint?: string;
}

export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const raw = env.DOCKER_HOST?.trim();
  if (!raw) return { socketPath: '/var/run/docker.sock', display: 'unix:///var/run/docker.sock' };
  if (raw.startsWith('unix://')) return { socketPath: raw.slice('unix://'.length), display: raw };
  const m = /^(?:tcp|http):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(raw);
  if (m?.[1]) return { host: m[1], port: Number(m[2] ?? 2375), display: raw };
  throw new CiloError('DOCKER_UNREACHABLE', `DOCKER_HOST="${raw}" is not an address cilo understands.`, {
    hint: 'Use unix:///var/run/docker.sock or tcp://HOST:PORT, or unset DOCKER_HOST.',
  });
}

interface RawResponse {
  status: number;
  body: Buffer;
  apiVersion: string | undefined;
}

const CONNECT_TIMEOUT_MS = 5_000;
/** How long a container removal already under way (HTTP 409) is waited for. */
const REMOVAL_WAIT_MS = 60_000;

export class DockerClient {
  private version: Promise<string> | undefined;
  constructor(private readonly endpoint: DockerEndpoint = dockerEndpoint()) {}

  private unreachable(cause: unknown): CiloError {
    const msg = (cause as Error)?.message ?? String(cause);
    return new CiloError('DOCKER_UNREACHABLE', `Cannot reach the Docker engine at ${this.endpoint.display} (${msg}).`, {
      hint: this.endpoint.unreachableHint ?? 'Start Docker (for example `sudo systemctl start docker` or `dockerd &`) or fix DOCKER_HOST, then retry.',
      cause,
    });
  }

  private requestOptions(method: string, path: string, headers: Record<string, string | number>): RequestOptions & { servername: string } {
    return {
      method,
      path,
      ...(this.endpoint.socketPath ? { socketPath: this.endpoint.socketPath } : { host: this.endpoint.host, port: this.endpoint.port }),
      headers,
      // No TLS, so no server name to send. Saying so keeps Node's agent from working one out,
      // which runs net.isIP("localhost"): its first call compiles the IPv6 pattern (~12 ms).
      servername: '',
    };
  }

  /**
   * A GET whose answer streams (logs with follow, events): chunks go to `onChunk` as they
   * arrive, with no time limit once the answer has begun. Resolves when the Engine ends the
   * stream or `signal` aborts (the connection is then closed, which ends the Engine's side).
   */
  private async stream(path: string, onChunk: (b: Buffer) => void, signal: AbortSignal): Promise<void> {
    const version = await this.apiVersion();
    const { request: httpRequest } = await import('node:http');
    if (signal.aborted) return;
    return new Promise((resolve, reject) => {
      const req = httpRequest(this.requestOptions('GET', `/v${version}${path}`, {}), (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(new DockerApiError('GET', path, status, Buffer.concat(chunks).toString('utf8').trim())));
          return;
        }
        res.on('data', onChunk);
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
      const abort = (): void => {
        req.destroy();
        resolve();
      };
      signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => {
        signal.removeEventListener('abort', abort);
        resolve();
      });
      req.on('error', (e) => (signal.aborted ? resolve() : reject(this.unreachable(e))));
      req.end();
    });
  }

  private async raw(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<RawResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    // Loaded on the first request: commands that never call the engine (help, version, path)
    // do not pay for node:http (~10 ms).
    const { request: httpRequest } = await import('node:http');
    return new Promise((resolve, reject) => {
      const options = this.requestOptions(method, path, payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {});
      const req = httpRequest(
        options,
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const api = res.headers['api-version'];
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), apiVersion: Array.isArray(api) ? api[0] : api });
          });
          res.on('error', reject);
        },
      );
      let connected = false;
      let timer = setTimeout(() => req.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      req.on('socket', (s) => {
        const onConnect = (): void => {
          connected = true;
          clearTimeout(timer);
          timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        };
        if (s.connecting) s.once('connect', onConnect);
        else onConnect();
      });
      req.on('close', () => clearTimeout(timer));
      req.on('error', (e) => reject(connected ? e : this.unreachable(e)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** Negotiates the API version once per client, also when the first requests run at once. */
  apiVersion(): Promise<string> {
    if (this.version) return this.version;
    const p = this.negotiate();
    this.version = p;
    // A failed negotiation (engine down) is not remembered: the next call tries again.
    p.catch(() => {
      if (this.version === p) this.version = undefined;
    });
    return p;
  }

  private async negotiate(): Promise<string> {
    const res = await this.raw('GET', '/_ping', undefined, CONNECT_TIMEOUT_MS).catch((e: unknown) => {
      throw e instanceof CiloError ? e : this.unreachable(e);
    });
    if (res.status !== 200) throw this.unreachable(new Error(`/_ping answered HTTP ${res.status}`));
    // The daemon names its API version in a header of /_ping: no second request needed.
    const header = res.apiVersion;
    if (header && /^1\.\d+$/.test(header)) return header;
    const v = await this.raw('GET', '/version', undefined, CONNECT_TIMEOUT_MS);
    const info = JSON.parse(v.body.toString('utf8')) as { ApiVersion?: string };
    return info.ApiVersion ?? '1.41';
  }

  /** One request; the body of the answer is JSON left unchecked (`unknown`): `checked` checks it. */
  async call(method: string, path: string, body?: unknown, opts: { okStatuses?: number[]; timeoutMs?: number } = {}): Promise<{ status: number; data: unknown }> {
    const version = await this.apiVersion();
    const full = `/v${version}${path}`;
    const res = await this.raw(method, full, body, opts.timeoutMs);
    const ok = res.status >= 200 && res.status < 300;
    if (!ok && !(opts.okStatuses ?? []).includes(res.status)) {
      let message = res.body.toString('utf8').trim();
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // plain-text error body
      }
      throw new DockerApiError(method, path, res.status, message);
    }
    const text = res.body.toString('utf8');
    let data: unknown = undefined;
    if (text && (res.body[0] === 0x7b || res.body[0] === 0x5b)) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new DockerApiError(method, path, res.status, `an answer that is not JSON: ${text.slice(0, 200)}`);
      }
    }
    return { status: res.status, data };
  }

  /** The answer's body checked against the shape cilo reads; a mismatch names the call and the field. */
  private async checked<S extends v.GenericSchema>(schema: S, method: string, path: string, body?: unknown, opts: { okStatuses?: number[]; timeoutMs?: number } = {}): Promise<{ status: number; data: v.InferOutput<S> | null }> {
    const r = await this.call(method, path, body, opts);
    if (r.status < 200 || r.status >= 300) return { status: r.status, data: null };
    const parsed = v.safeParse(schema, r.data);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
      throw new DockerApiError(method, path, r.status, `an answer cilo cannot read (${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'})`);
    }
    return { status: r.status, data: parsed.output };
  }

  async callBuffer(method: string, path: string): Promise<Buffer> {
    const version = await this.apiVersion();
    const res = await this.raw(method, `/v${version}${path}`);
    if (res.status < 200 || res.status >= 300) throw new DockerApiError(method, path, res.status, res.body.toString('utf8').trim());
    return res.body;
  }

  async ping(): Promise<string> {
    return this.apiVersion();
  }

  async info(): Promise<EngineInfo> {
    return required(await this.checked(InfoSchema, 'GET', '/info'));
  }

  // Networks

  async listNetworks(filters: Filters = {}): Promise<NetworkInspect[]> {
    return required(await this.checked(v.array(NetworkInspectSchema), 'GET', `/networks?filters=${encodeURIComponent(JSON.stringify(filters))}`));
  }

  async inspectNetwork(name: string): Promise<NetworkInspect | null> {
    return (await this.checked(NetworkInspectSchema, 'GET', `/networks/${encodeURIComponent(name)}`, undefined, { okStatuses: [404] })).data;
  }

  async createNetwork(name: string, labels: Record<string, string>, ipam?: { subnet: string; gateway: string; ipRange?: string }): Promise<string> {
    const r = await this.checked(IdSchema, 'POST', '/networks/create', {
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: labels,
      ...(ipam ? { IPAM: { Driver: 'default', Config: [{ Subnet: ipam.subnet, Gateway: ipam.gateway, ...(ipam.ipRange ? { IPRange: ipam.ipRange } : {}) }] } } : {}),
    });
    return required(r).Id;
  }

  async removeNetwork(name: string): Promise<boolean> {
    const r = await this.call('DELETE', `/networks/${encodeURIComponent(name)}`, undefined, { okStatuses: [404] });
    return r.status !== 404;
  }

  async connectNetwork(network: string, container: string, ip: string | undefined, aliases: string[]): Promise<void> {
    await this.call('POST', `/networks/${encodeURIComponent(network)}/connect`, {
      Container: container,
      EndpointConfig: { Aliases: aliases, ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}) },
    });
  }

  async disconnectNetwork(network: string, container: string, force = true): Promise<void> {
    await this.call('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { Container: container, Force: force }, { okStatuses: [404] });
  }

  // Containers

  async listContainers(filters: Filters = {}, all = true): Promise<ContainerSummary[]> {
    return required(await this.checked(v.array(ContainerSummarySchema), 'GET', `/containers/json?all=${all ? 1 : 0}&filters=${encodeURIComponent(JSON.stringify(filters))}`));
  }

  async inspectContainer(idOrName: string): Promise<ContainerInspect | null> {
    return (await this.checked(ContainerInspectSchema, 'GET', `/containers/${encodeURIComponent(idOrName)}/json`, undefined, { okStatuses: [404] })).data;
  }

  async createContainer(name: string, spec: Record<string, unknown>): Promise<string> {
    return required(await this.checked(IdSchema, 'POST', `/containers/create?name=${encodeURIComponent(name)}`, spec)).Id;
  }

  /** One sample of the container's use, answered at once (`one-shot`: no second sample for the CPU delta); null when it is gone or not running. */
  async containerStats(id: string): Promise<ContainerStats | null> {
    // The kernel's accounting when the container runs on this machine: at once, where the
    // Engine answers at its collector's next tick (cgroup-stats.ts).
    return cgroupStats(id) ?? this.containerStatsFromEngine(id);
  }

  /** `containerStats` asked of the Engine itself (a container not on this machine, and tests comparing both). */
  async containerStatsFromEngine(id: string): Promise<ContainerStats | null> {
    const r = await this.checked(StatsSchema, 'GET', `/containers/${encodeURIComponent(id)}/stats?stream=false&one-shot=true`, undefined, { okStatuses: [404, 409], timeoutMs: 30_000 });
    return r.status === 200 ? r.data : null;
  }

  async startContainer(id: string): Promise<void> {
    await this.call('POST', `/containers/${encodeURIComponent(id)}/start`, undefined, { okStatuses: [304] });
  }

  async stopContainer(id: string, timeoutSeconds = 10): Promise<void> {
    await this.call('POST', `/containers/${encodeURIComponent(id)}/stop?t=${timeoutSeconds}`, undefined, { okStatuses: [304, 404], timeoutMs: (timeoutSeconds + 60) * 1000 });
  }

  /** Freezes a container's processes; one already paused or not running is left as it is. */
  async pauseContainer(id: string): Promise<void> {
    await this.call('POST', `/containers/${encodeURIComponent(id)}/pause`, undefined, { okStatuses: [404, 409] });
  }

  /** Thaws a paused container; one that is not paused is left as it is. */
  async unpauseContainer(id: string): Promise<void> {
    try {
      await this.call('POST', `/containers/${encodeURIComponent(id)}/unpause`, undefined, { okStatuses: [404, 409] });
    } catch (e) {
      // The engine answers 500 "is not paused" for a running container.
      if (e instanceof DockerApiError && /is not paused/i.test(e.message)) return;
      throw e;
    }
  }

  async removeContainer(id: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const r = await this.call('DELETE', `/containers/${encodeURIComponent(id)}?force=${opts.force ? 1 : 0}&v=${opts.volumes ? 1 : 0}`, undefined, { okStatuses: [404, 409] });
    if (r.status !== 409) return;
    const message = typeof r.data === 'object' && r.data !== null && 'message' in r.data && typeof r.data.message === 'string' ? r.data.message : '';
    if (!/already in progress/.test(message)) throw new DockerApiError('DELETE', `/containers/${id}`, 409, message || 'conflict');
    // Another removal of it is under way (one a killed cilo started, say): wait for it to end.
    const deadline = Date.now() + REMOVAL_WAIT_MS;
    while (Date.now() < deadline) {
      if ((await this.inspectContainer(id)) === null) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new DockerApiError('DELETE', `/containers/${id}`, 409, `its removal, already in progress, did not end within ${REMOVAL_WAIT_MS / 1000} s`);
  }

  /** The last lines of a container's log, stdout and stderr interleaved. */
  async containerLogs(id: string, tail = 20): Promise<string> {
    const buf = await this.callBuffer('GET', `/containers/${encodeURIComponent(id)}/logs?stdout=1&stderr=1&tail=${tail}`);
    const lines: string[] = [];
    const reader = new LogLineReader((l) => lines.push(`${l}\n`));
    reader.push(buf);
    reader.end();
    return lines.join('');
  }

  async streamLogs(id: string, opts: LogStreamOptions, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    const reader = new LogLineReader(onLine);
    const query = `stdout=1&stderr=1&follow=${opts.follow ? 1 : 0}&tail=${opts.tail ?? 'all'}${opts.since !== undefined ? `&since=${opts.since}` : ''}`;
    await this.stream(`/containers/${encodeURIComponent(id)}/logs?${query}`, (c) => reader.push(c), signal);
    reader.end();
  }

  async watchEvents(filters: Filters, onEvent: (e: EngineEvent) => void, signal: AbortSignal): Promise<void> {
    const reader = new JsonLinesReader((value) => {
      const e = value as Partial<EngineEvent>;
      if (typeof e.Type === 'string' && typeof e.Action === 'string') onEvent(e as EngineEvent);
    });
    await this.stream(`/events?filters=${encodeURIComponent(JSON.stringify(filters))}`, (c) => reader.push(c), signal);
  }

  // Volumes

  async listVolumes(filters: Filters = {}): Promise<VolumeInfo[]> {
    return required(await this.checked(VolumeListSchema, 'GET', `/volumes?filters=${encodeURIComponent(JSON.stringify(filters))}`)).Volumes;
  }

  async inspectVolume(name: string): Promise<VolumeInspect | null> {
    return (await this.checked(VolumeInspectSchema, 'GET', `/volumes/${encodeURIComponent(name)}`, undefined, { okStatuses: [404] })).data;
  }

  /** A labelled volume of the local driver; one that exists already is returned as it is. */
  async createVolume(name: string, labels: Record<string, string>): Promise<VolumeInspect> {
    return required(await this.checked(VolumeInspectSchema, 'POST', '/volumes/create', { Name: name, Driver: 'local', Labels: labels }));
  }

  /** Waits for a container to exit; resolves with its exit status. */
  async waitContainer(id: string, timeoutMs = 3_600_000): Promise<number> {
    return required(await this.checked(WaitSchema, 'POST', `/containers/${encodeURIComponent(id)}/wait`, undefined, { timeoutMs })).StatusCode;
  }

  async removeVolume(name: string): Promise<void> {
    await this.call('DELETE', `/volumes/${encodeURIComponent(name)}`, undefined, { okStatuses: [404] });
  }

  async imageExists(ref: string): Promise<boolean> {
    const r = await this.call('GET', `/images/${encodeURIComponent(ref)}/json`, undefined, { okStatuses: [404] });
    return r.status !== 404;
  }
}

/** A checked answer that only a success status can give (404s are asked for separately). */
function required<T>(r: { data: T | null }): T {
  if (r.data === null) throw new Error('an Engine answer without a body');
  return r.data;
}
