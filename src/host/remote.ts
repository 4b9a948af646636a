/**
 * core's RemoteHosts port over the SSH and WireGuard adapters: each host's files live under
 * `$CILO_HOME/hosts/<name>/` (state/paths.ts hostPaths).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerClient } from '../docker/client.js';
import { parseSshDestination, remoteWorkspace, TUNNEL_PORT, tunnelAddresses, tunnelInterface } from '../domain/hosts.js';
import type { HostState } from '../domain/state.js';
import { hostPaths, type CiloPaths } from '../state/paths.js';
import { VolumeDataCopier } from '../workspace/volume-copy.js';
import { cancelLoopbackPorts, dockerContextHost, ensureForward, forwardLoopbackPorts, freeLoopbackPort, forgetHostKeys, isKnownHost, runRemote, scanHostKeys, stopMaster, syncTree, trustHostKeys, untrustHostKeys, userKnownEntries, type SshAccess } from './ssh.js';
import { tunnelDown, tunnelState, tunnelUp, type TunnelSpec } from './wireguard.js';

type HostLink = Pick<HostState, 'name' | 'ssh' | 'identity' | 'remote_socket' | 'socks_port'>;

/** The implementation of core's RemoteHosts port (wired in default-context.ts). */
export function remoteHosts(paths: CiloPaths) {
  const knownHosts = hostPaths(paths, '_').knownHosts;
  const access = (h: HostLink): SshAccess => {
    const p = hostPaths(paths, h.name);
    return { url: h.ssh, destination: parseSshDestination(h.ssh), identity: h.identity, knownHostsFile: p.knownHosts, controlPath: p.controlPath, logFile: p.sshLog, socksPort: h.socks_port };
  };
  // The loopback ports forwarded from each host, so that a new master connection forwards them again.
  const forwardedFile = (h: HostLink): string => join(hostPaths(paths, h.name).dir, 'forwarded-ports.json');
  const readForwarded = (h: HostLink): number[] => {
    try {
      const list: unknown = JSON.parse(readFileSync(forwardedFile(h), 'utf8'));
      return Array.isArray(list) ? list.filter((p): p is number => Number.isInteger(p)) : [];
    } catch {
      return [];
    }
  };
  const writeForwarded = (h: HostLink, ports: number[]): void => {
    mkdirSync(hostPaths(paths, h.name).dir, { recursive: true, mode: 0o700 });
    writeFileSync(forwardedFile(h), `${JSON.stringify([...new Set(ports)].sort((a, b) => a - b))}\n`, { mode: 0o600 });
  };
  const tunnel = (h: HostState): TunnelSpec => ({
    iface: tunnelInterface(h.subnet),
    range: h.subnet,
    ...tunnelAddresses(h.subnet),
    endpointHost: parseSshDestination(h.ssh).host,
    port: TUNNEL_PORT,
    keyFile: hostPaths(paths, h.name).tunnelKey,
    remoteDir: remoteWorkspace(h, { project: '.tunnel', name: h.name }),
  });
  return {
    contextEndpoint: (name: string) => dockerContextHost(name),
    scanHostKeys: (ssh: string) => scanHostKeys(parseSshDestination(ssh)),
    freePort: () => freeLoopbackPort(),
    isKnown: (ssh: string) => isKnownHost({ destination: parseSshDestination(ssh), knownHostsFile: knownHosts }),
    userKnownEntries: (ssh: string) => userKnownEntries(parseSshDestination(ssh)),
    trustHostKeys: async (lines: string[]) => trustHostKeys(knownHosts, lines),
    untrustHostKeys: async (lines: string[]) => untrustHostKeys(knownHosts, lines),
    forgetHostKeys: (ssh: string) => forgetHostKeys({ destination: parseSshDestination(ssh), knownHostsFile: knownHosts }),
    async connect(h: HostLink) {
      const socket = hostPaths(paths, h.name).engineSocket;
      const { socksPort: served, fresh } = await ensureForward(access(h), socket, h.remote_socket);
      // A new master has none of the loopback forwards the last one had (it ended when idle): added again, best effort.
      if (fresh) await forwardLoopbackPorts(access(h), readForwarded(h)).catch(() => undefined);
      const unreachableHint = `Check the engine on host ${h.name} (\`cilo host status ${h.name}\`; there: \`docker info\`), then retry.`;
      const docker = new DockerClient({ socketPath: socket, display: `${h.ssh} (host ${h.name})`, unreachableHint });
      // The host's volumes are on the host: copied by a helper container there, never through a path here.
      const socksPort = served !== undefined && served !== h.socks_port ? served : undefined;
      return { docker, dockerHost: `unix://${socket}`, volumes: new VolumeDataCopier(docker, { localEngine: false }), socksPort };
    },
    disconnect: (h: HostLink) => stopMaster(access(h), hostPaths(paths, h.name).engineSocket),
    async forgetHost(h: HostLink) {
      await stopMaster(access(h), hostPaths(paths, h.name).engineSocket);
      rmSync(hostPaths(paths, h.name).dir, { recursive: true, force: true });
    },
    run: (h: HostLink, argv: string[], what: string) => runRemote(access(h), argv, what),
    async forwardPorts(h: HostLink, ports: number[]) {
      await forwardLoopbackPorts(access(h), ports);
      writeForwarded(h, [...readForwarded(h), ...ports]);
    },
    async cancelPorts(h: HostLink, ports: number[]) {
      await cancelLoopbackPorts(access(h), ports);
      writeForwarded(h, readForwarded(h).filter((p) => !ports.includes(p)));
    },
    sync: (h: HostLink, from: string, to: string) => syncTree(access(h), from, to),
    tunnelUp: (h: HostState) => tunnelUp(access(h), tunnel(h)),
    tunnelDown: (h: HostState, reach: boolean) => tunnelDown(reach ? access(h) : undefined, tunnel(h)),
    tunnelState: (h: HostState) => tunnelState(tunnelInterface(h.subnet)),
  };
}
