/**
 * core's RemoteHosts port over the SSH and WireGuard adapters: each host's files live under
 * `$CILO_HOME/hosts/<name>/` (state/paths.ts hostPaths).
 */
import { rmSync } from 'node:fs';
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
      const served = await ensureForward(access(h), socket, h.remote_socket);
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
    forwardPorts: (h: HostLink, ports: number[]) => forwardLoopbackPorts(access(h), ports),
    cancelPorts: (h: HostLink, ports: number[]) => cancelLoopbackPorts(access(h), ports),
    sync: (h: HostLink, from: string, to: string) => syncTree(access(h), from, to),
    tunnelUp: (h: HostState) => tunnelUp(access(h), tunnel(h)),
    tunnelDown: (h: HostState, reach: boolean) => tunnelDown(reach ? access(h) : undefined, tunnel(h)),
    tunnelState: (h: HostState) => tunnelState(tunnelInterface(h.subnet)),
  };
}
