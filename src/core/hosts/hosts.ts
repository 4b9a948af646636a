/**
 * Remote hosts: `cilo host add/list/status/rm`, and which host a new environment goes to. Running
 * an environment on a host's engine is its site's work (core/sites).
 */
import { askSite } from '../sites/reach.js';
import { allocateHostRange, describeKeys, engineRanges, keysToTrust, knownHostsName, formatSshDestination, hostNotFound, parseSshDestination, tunnelAddresses, socksMoved, tunnelInterface, userKnownVerdict } from '../../domain/hosts.js';
import { toValidName } from '../../domain/names.js';
import type { EnvironmentState, HostState, HostTransport } from '../../domain/state.js';
import { checkPrivateRange, formatCidr, overlaps, parseCidr, parseCidr24Loose } from '../../domain/subnet.js';
import { CiloError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow, type CoreContext } from '../context.js';
import type { Engine, HostLink } from '../ports.js';
import { externalSubnets } from '../network/subnets.js';

export interface AddHostInput {
  name: string;
  /** `ssh://user@box[:port]`, or a Docker context whose endpoint is one. */
  target: string;
  transport?: HostTransport | undefined;
  identity?: string | undefined;
  /** The SHA256 fingerprint of the host key to trust (as `host add` showed it). */
  acceptHostKey?: string | undefined;
  /** The host's range for its environments' subnets (default: a free /18 of 10.225.0.0–10.231.255.255). */
  subnet?: string | undefined;
  remoteSocket?: string | undefined;
  /** The port of the host's SOCKS5 proxy on 127.0.0.1 (default: one free now). */
  socksPort?: number | undefined;
  /** Takes a `subnet` outside the private ranges too. */
  force?: boolean | undefined;
  /** Asked (on a terminal) whether to trust a key not trusted yet, shown as `type fingerprint`. */
  confirmHostKey?: ((ssh: string, keys: string) => Promise<boolean>) | undefined;
}

const DEFAULT_REMOTE_SOCKET = '/var/run/docker.sock';

/** A host just added, and where its key's trust came from when the user's own SSH vouched for it. */
export interface AddedHost {
  host: HostState;
  /** The user's known_hosts file whose key cilo trusted without --accept-host-key (null: not so). */
  trustedFrom: string | null;
}

/** What a `host add` has made so far: what undoing it must remove. */
interface Made {
  keyLines: string[];
  recorded: boolean;
  tunnel?: HostState;
}

/**
 * Adds a host: trusts its key (only the one the user confirmed, or the one the user's own SSH
 * already trusts), connects, checks that its engine is one this cilo does not use yet and that
 * compose can drive it, picks a range no other engine of this cilo uses, records it, and
 * (WireGuard) brings the tunnel up. A failure after the first write undoes every step: the
 * key it trusted, `hosts/<name>/`, the record, the tunnel.
 */
export async function addHost(ctx: CoreContext, input: AddHostInput): Promise<AddedHost> {
  const name = toValidName(input.name, 'host');
  if (readState(ctx.paths).hosts?.[name]) throw hostExists(name);
  // Before anything is trusted or connected: a bad range leaves nothing behind.
  if (input.subnet !== undefined) checkPrivateRange(formatCidr(parseCidr(input.subnet.trim())), '--subnet', input.force);
  const { ssh, context } = await sshTarget(ctx, input.target);
  const link = { name, ssh, identity: input.identity, remote_socket: input.remoteSocket ?? DEFAULT_REMOTE_SOCKET, socks_port: input.socksPort ?? (await ctx.remote.freePort()) };
  const made: Made = { keyLines: [], recorded: false };
  try {
    const trust = await trustHostKey(ctx, ssh, input.acceptHostKey, input.confirmHostKey);
    made.keyLines = trust.added;
    const connected = await ctx.remote.connect(link);
    if (connected.socksPort !== undefined) {
      ctx.warn(socksMoved(name, link.socks_port, connected.socksPort));
      link.socks_port = connected.socksPort;
    }
    // The host's routes are not this machine's: its networks are what it has in use.
    const engineId = await uniqueEngineId(ctx, connected.docker, name);
    await checkCompose(ctx);
    const home = (await ctx.remote.run(link, ['sh', '-c', 'echo "$HOME"'], 'Finding the home directory')).trim() || '/tmp';
    const remoteNets = await externalSubnets({ docker: connected.docker, routes: { routeSubnets: async () => [] } });
    const host = await recordHost(ctx, input, {
      ...link,
      ...(context ? { context } : {}),
      remote_root: `${home}/.cilo-remote/${homeId(ctx.paths)}`,
      engine_id: engineId,
      transport: input.transport ?? 'ssh',
      added_at: isoNow(ctx),
    }, remoteNets);
    made.recorded = true;
    if (host.transport === 'wireguard') {
      made.tunnel = host;
      ctx.log(`Bringing the WireGuard tunnel to ${host.name} up (${tunnelInterface(host.subnet)}, ${host.subnet})`);
      await ctx.remote.tunnelUp(host);
    }
    return { host, trustedFrom: trust.from };
  } catch (e) {
    await undoAdd(ctx, link, made, e);
    throw e;
  }
}

/** Removes what a failed `host add` made, newest first; a step that fails does not stop the others. */
async function undoAdd(ctx: CoreContext, link: HostLink, made: Made, cause: unknown): Promise<void> {
  if (made.tunnel) await ctx.remote.tunnelDown(made.tunnel, true).catch(() => undefined);
  if (made.recorded) {
    await withStateLock((state) => {
      delete state.hosts?.[link.name];
      if (state.hosts && Object.keys(state.hosts).length === 0) delete state.hosts;
    }, ctx.paths).catch(() => undefined);
  }
  // Another `host add` of the same name won the race to record it: its files are its own.
  if (cause instanceof CiloError && cause.code === 'HOST_EXISTS') await ctx.remote.disconnect(link).catch(() => undefined);
  else await ctx.remote.forgetHost(link).catch(() => undefined);
  await ctx.remote.untrustHostKeys(made.keyLines).catch(() => undefined);
}

function hostExists(name: string): CiloError {
  return new CiloError('HOST_EXISTS', `A host named "${name}" already exists.`, { hint: `Choose another name, or remove it first with \`cilo host rm ${name}\`.` });
}

/** An SSH URL as given, or the endpoint of the Docker context of that name. */
async function sshTarget(ctx: CoreContext, target: string): Promise<{ ssh: string; context?: string }> {
  if (/^ssh:\/\/|@/.test(target)) return { ssh: formatSshDestination(parseSshDestination(target)) };
  const endpoint = await ctx.remote.contextEndpoint(target);
  if (!endpoint) {
    throw new CiloError('HOST_INVALID', `"${target}" is neither an SSH destination nor a Docker context.`, { hint: 'Give ssh://user@host, or a context listed by `docker context ls`.', exitCode: 2 });
  }
  if (!endpoint.startsWith('ssh://')) {
    throw new CiloError('HOST_INVALID', `The Docker context "${target}" points at ${endpoint}, not at an engine reached over SSH.`, { hint: 'cilo reaches remote engines over SSH: give a context whose endpoint is ssh://user@host.', exitCode: 2 });
  }
  return { ssh: formatSshDestination(parseSshDestination(endpoint)), context: target };
}

/**
 * Trusts the host key the user named, or confirmed, or the one the user's own SSH already
 * trusts (its known_hosts); an unknown key is shown and refused, never accepted blindly, and a
 * key other than the one the user's known_hosts lists is refused. Returns the lines it added to
 * cilo's known_hosts, and the user's file when that vouched for the key.
 */
async function trustHostKey(ctx: CoreContext, ssh: string, accept: string | undefined, ask: AddHostInput['confirmHostKey']): Promise<{ added: string[]; from: string | null }> {
  if (accept === undefined && (await ctx.remote.isKnown(ssh))) return { added: [], from: null };
  const keys = await ctx.remote.scanHostKeys(ssh);
  if (accept === undefined && keys.length > 0) {
    const user = userKnownVerdict(keys, await ctx.remote.userKnownEntries(ssh));
    if (user.kind === 'mismatch') {
      throw new CiloError('HOST_KEY_UNKNOWN', `${ssh} offers the SSH host key ${describeKeys(keys)}, not the one ${user.file} lists for it.`, {
        hint: `Someone may be between you and the host: check the fingerprint with its owner. If the host's key really changed, remove the old one (\`ssh-keygen -R ${knownHostsName(parseSshDestination(ssh))} -f ${user.file}\`) or run again with --accept-host-key FINGERPRINT.`,
      });
    }
    if (user.kind === 'match') return { added: await ctx.remote.trustHostKeys(user.lines), from: user.file };
  }
  const confirmed = accept === undefined && ask !== undefined && keys.length > 0 && (await ask(ssh, describeKeys(keys)));
  return { added: await ctx.remote.trustHostKeys(keysToTrust(ssh, keys, confirmed ? 'all' : accept)), from: null };
}

/** The engine's ID, refused when this machine's engine or another host has the same one. */
async function uniqueEngineId(ctx: CoreContext, docker: Engine, name: string): Promise<string> {
  const id = (await docker.info()).ID;
  if (!id) throw new CiloError('HOST_INVALID', `The engine of host "${name}" did not report an ID.`, { hint: 'Use a Docker engine (dockerd) on the host.' });
  const local = await ctx.local.docker.info().then((i) => i.ID, () => undefined);
  const other = Object.values(readState(ctx.paths).hosts ?? {}).find((h) => h.engine_id === id);
  if (id === local || other) {
    throw new CiloError('ENGINE_DUPLICATE', `The engine reached through host "${name}" is ${other ? `the one of host "${other.name}"` : "this machine's own"} (engine ID ${id}).`, {
      hint: 'Point the host at another machine. A copy of a Docker data or /etc/docker directory keeps the engine ID: give the copy its own /etc/docker.',
    });
  }
  return id;
}

/** cilo runs compose here, against the host's forwarded engine socket. */
async function checkCompose(ctx: CoreContext): Promise<void> {
  if ((await ctx.local.compose.version()) === undefined) {
    throw new CiloError('COMPOSE_MISSING', 'Docker Compose v2 is needed on this machine: cilo runs it here against the host\'s engine.', { hint: 'Install the Compose v2 plugin, then check with `docker compose version`.' });
  }
}

/** Records the host with a range no other engine of this cilo (nor a route here or a network there) uses. */
function recordHost(ctx: CoreContext, input: AddHostInput, host: Omit<HostState, 'subnet'>, remoteNets: string[]): Promise<HostState> {
  return ctx.local.routes.routeSubnets().then((routes) =>
    withStateLock((state) => {
      if (state.hosts?.[host.name]) throw hostExists(host.name);
      const taken = [...engineRanges(state), ...routes, ...remoteNets];
      let subnet: string;
      if (input.subnet !== undefined) {
        subnet = input.subnet.trim();
        const c = parseCidr(subnet);
        const clash = engineRanges(state).find((r) => overlaps(c, parseCidr24Loose(r)));
        if (clash) throw new CiloError('NETWORK_OVERLAP', `The range ${subnet} overlaps ${clash}, which another engine of this cilo uses.`, { hint: 'Pick a range that overlaps no base range (`cilo network status`) and no other host (`cilo host list`).', exitCode: 2 });
      } else subnet = allocateHostRange(taken);
      const rec: HostState = { ...host, subnet };
      state.hosts = { ...(state.hosts ?? {}), [host.name]: rec };
      return rec;
    }, ctx.paths),
  );
}

export interface HostView {
  name: string;
  ssh: string;
  context: string | null;
  transport: HostTransport;
  subnet: string;
  engine_id: string;
  remote_root: string;
  /** `127.0.0.1:<port>`: a SOCKS5 proxy through the host (reaches its containers without root). */
  socks: string | null;
  environments: string[];
}

function hostView(host: HostState, envs: EnvironmentState[]): HostView {
  return {
    name: host.name,
    ssh: host.ssh,
    context: host.context ?? null,
    transport: host.transport,
    subnet: host.subnet,
    engine_id: host.engine_id,
    remote_root: host.remote_root,
    socks: host.socks_port ? `127.0.0.1:${host.socks_port}` : null,
    environments: envs.filter((e) => e.host === host.name).map((e) => e.name).sort(),
  };
}

export function listHosts(ctx: CoreContext): HostView[] {
  const state = readState(ctx.paths);
  const envs = Object.values(state.environments);
  return Object.values(state.hosts ?? {})
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((h) => hostView(h, envs));
}

export interface HostStatus extends HostView {
  reachable: boolean;
  /** Why it is not reachable. */
  problem: string | null;
  engine_version: string | null;
  tunnel: { interface: string; up: boolean; local: string; remote: string; last_handshake: string | null } | null;
}

/** The host as recorded, and live: does its engine answer (within seconds), is the tunnel up. */
export async function hostStatus(ctx: CoreContext, rawName: string): Promise<HostStatus> {
  const state = readState(ctx.paths);
  const host = findHost(state.hosts, rawName);
  const answer = await askSite(ctx, { host: host.name }, async (site) => (await site.docker.info()).ServerVersion);
  // Read again: a new connection may have moved the SOCKS proxy to another port.
  const now = readState(ctx.paths);
  const view = hostView(now.hosts?.[host.name] ?? host, Object.values(now.environments));
  let tunnel: HostStatus['tunnel'] = null;
  if (host.transport === 'wireguard') {
    const t = await ctx.remote.tunnelState(host);
    tunnel = { interface: tunnelInterface(host.subnet), up: t.up, ...tunnelAddresses(host.subnet), last_handshake: t.handshake > 0 ? new Date(t.handshake * 1000).toISOString() : null };
  }
  return { ...view, reachable: answer.ok, problem: answer.ok ? null : answer.problem, engine_version: answer.ok ? answer.value : null, tunnel };
}

function findHost(hosts: Record<string, HostState> | undefined, rawName: string): HostState {
  const name = toValidName(rawName, 'host');
  const host = hosts?.[name];
  if (!host) throw hostNotFound(name);
  return host;
}

/** A host of the state, by name (for `up --host`): an unknown name is an error naming the fix. */
export function knownHost(ctx: CoreContext, rawName: string): string {
  return findHost(readState(ctx.paths).hosts, rawName).name;
}

/**
 * The host an `up` runs on: an existing environment's own (a different --host is refused: it
 * cannot move), else the one asked for (which must exist), else none (this machine).
 */
export function hostForUp(ctx: CoreContext, envName: string, requested: string | undefined, autoName: boolean): string | undefined {
  const state = readState(ctx.paths);
  const wanted = requested === undefined ? undefined : findHost(state.hosts, requested).name;
  const existing = autoName ? undefined : state.environments[envName];
  if (!existing) return wanted;
  if (wanted !== undefined && wanted !== existing.host) {
    throw new CiloError('USAGE', `Environment "${envName}" runs on ${existing.host ? `host ${existing.host}` : 'this machine'}, not on host ${wanted}; an environment does not move.`, {
      hint: `Drop --host, or destroy it (\`cilo destroy ${envName}\`) and create it again with --host ${wanted}.`,
      exitCode: 2,
    });
  }
  return existing.host;
}

/**
 * Removes a host no environment uses: its tunnel (both ends when the host answers), the SSH
 * connection, and the record. Its key stays trusted unless no other host uses the destination.
 */
export async function removeHost(ctx: CoreContext, rawName: string): Promise<HostState> {
  const state = readState(ctx.paths);
  const host = findHost(state.hosts, rawName);
  const users = Object.values(state.environments).filter((e) => e.host === host.name).map((e) => e.name);
  if (users.length > 0) {
    throw new CiloError('HOST_IN_USE', `Host "${host.name}" still runs the environments ${users.join(', ')}.`, { hint: `Destroy them first (\`cilo destroy ${users[0]}\`), then remove the host.` });
  }
  if (host.transport === 'wireguard') {
    // The tunnel's far end is removed over SSH: what counts is that SSH answers (within its connect
    // timeout), not the host's engine, which may be stopped.
    const reach = await ctx.remote.connect(host).then(() => true, () => false);
    await ctx.remote.tunnelDown(host, reach).catch((e: unknown) => ctx.warn(`the tunnel of ${host.name} could not be removed on the host: ${e instanceof Error ? e.message : String(e)}`));
  }
  await ctx.remote.forgetHost(host).catch(() => undefined);
  await withStateLock((s) => {
    delete s.hosts?.[host.name];
    if (s.hosts && Object.keys(s.hosts).length === 0) delete s.hosts;
    // Shared services of its engine have no users left (no environment runs there): forget them.
    for (const [key, rec] of Object.entries(s.shared_services)) if (rec.host === host.name) delete s.shared_services[key];
  }, ctx.paths);
  if (!Object.values(readState(ctx.paths).hosts ?? {}).some((h) => h.ssh === host.ssh)) await ctx.remote.forgetHostKeys(host.ssh);
  return host;
}
