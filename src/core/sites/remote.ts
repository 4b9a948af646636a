/**
 * A remote host's site: its engine (and compose pointed at it) through the host's reused SSH
 * connection; the workspace synced one way to the host before each start, bind mounts rebased
 * onto that copy; snapshots and shared bind mounts refused.
 */
import type { ContainerExecOptions } from '../../docker/exec.js';
import type { ComposeTarget } from '../../domain/compose-model.js';
import { rebaseBindMounts, remoteWorkspace, socksMoved } from '../../domain/hosts.js';
import type { HostState } from '../../domain/state.js';
import { withStateLock } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import type { Compose } from '../ports.js';
import { remoteRefusal } from './refusals.js';
import type { Site } from './site.js';

/** Opens (or reuses) the host's connection; an unreachable host fails within seconds (HOST_UNREACHABLE). */
export async function remoteSite(ctx: CoreContext, host: HostState): Promise<Site> {
  const { docker, dockerHost, volumes, socksPort } = await ctx.remote.connect(host);
  if (socksPort !== undefined) await recordSocksPort(ctx, host, socksPort);
  return {
    host: host.name,
    label: `host ${host.name}`,
    copiesWorkspace: true,
    docker,
    volumes,
    compose: composeAt(ctx.local.compose, dockerHost),
    exec: { run: (c: string, argv: string[], o: ContainerExecOptions = {}) => ctx.local.exec.run(c, argv, { ...o, dockerHost }) },
    // The host's routes are not this machine's: the tunnel's route to the host's range is no conflict there.
    routes: { routeSubnets: async () => [], connect: ctx.local.routes.connect },
    syncWorkspace: async (env) => {
      const to = remoteWorkspace(host, env);
      ctx.log(`Syncing the workspace of ${env.name} to ${host.name}:${to}`);
      await ctx.remote.sync(host, env.workspace, to);
    },
    bindModel: (env, model) => rebaseBindMounts(model, env.workspace, remoteWorkspace(host, env)),
    removeWorkspace: async (env) => {
      await ctx.remote.run(host, ['rm', '-rf', remoteWorkspace(host, env)], 'Removing the workspace copy');
    },
    refuse: (what) => {
      throw remoteRefusal(host.name, what);
    },
    // Through the host's SSH connection (host/ssh.ts, `-O forward -L 127.0.0.1:P:127.0.0.1:P`).
    forwardLoopback: (ports) => ctx.remote.forwardPorts(host, ports),
    cancelLoopback: (ports) => ctx.remote.cancelPorts(host, ports),
    forget: () => ctx.remote.disconnect(host).catch(() => undefined),
  };
}

/** A new connection serves the host's SOCKS proxy on another port (its own was taken): recorded, and said. */
async function recordSocksPort(ctx: CoreContext, host: HostState, port: number): Promise<void> {
  await withStateLock((state) => {
    const rec = state.hosts?.[host.name];
    if (rec) rec.socks_port = port;
  }, ctx.paths);
  ctx.warn(socksMoved(host.name, host.socks_port, port));
}


/** The compose tool with every target run against `dockerHost`. */
function composeAt(compose: Compose, dockerHost: string): Compose {
  const at = (t: ComposeTarget): ComposeTarget => ({ ...t, dockerHost });
  return {
    resolveModel: (t) => compose.resolveModel(at(t)),
    up: (t, o) => compose.up(at(t), o),
    stop: (t, s) => compose.stop(at(t), s),
    passthrough: (t, a, o) => compose.passthrough(at(t), a, o),
    version: () => compose.version(),
    captureLimited: (t, a, o) => compose.captureLimited(at(t), a, o),
  };
}
