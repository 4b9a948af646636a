/**
 * The WireGuard transport: a userspace `wireguard-go` interface on each side (the kernel here
 * has no WireGuard module), this machine routing the host's range into it, and the host letting
 * the tunnel through to its containers (a fresh engine's FORWARD policy is DROP, so cilo adds a
 * DOCKER-USER accept rule for the tunnel's interface). Needs root on both sides.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tail } from '../domain/text.js';
import { CiloError } from '../errors.js';
import { capture } from '../proc/run.js';
import { runRemoteScript, shellQuote, type SshAccess } from './ssh.js';

export interface TunnelSpec {
  /** Interface name, the same on both sides. */
  iface: string;
  /** The host's range, routed into the tunnel here. */
  range: string;
  local: string;
  remote: string;
  /** The host's address for WireGuard's UDP (its SSH host name). */
  endpointHost: string;
  port: number;
  keyFile: string;
  /** Where the host keeps its own key. */
  remoteDir: string;
}

const USERSPACE_ENV = { WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };

async function run(cmd: string, args: string[], what: string, input?: string): Promise<string> {
  const r = await capture(cmd, args, { input: input ?? '', env: { ...process.env, ...USERSPACE_ENV } }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw tunnelUnavailable(`\`${cmd}\` is not installed`);
    throw e;
  });
  if (r.code !== 0) throw new CiloError('TUNNEL_FAILED', `${what} failed (exit ${r.code}): ${tail(r.stderr.trim(), 1) || 'no message'}`, { details: `command: ${cmd} ${args.join(' ')}`, hint: 'Check that wireguard-go and wg work on this machine as root, or use --transport ssh.' });
  return r.stdout;
}

export function tunnelUnavailable(why: string): CiloError {
  return new CiloError('TUNNEL_UNAVAILABLE', `A WireGuard tunnel cannot be made here: ${why}.`, {
    hint: 'Run as root with /dev/net/tun, wireguard-go and wireguard-tools installed (apt-get install wireguard-go wireguard-tools), or add the host with --transport ssh.',
  });
}

/** Refuses early, with the reason, where this machine cannot make a tunnel. */
export function checkTunnelPossible(): void {
  if (process.getuid?.() !== 0) throw tunnelUnavailable('it needs root on this machine');
  if (!existsSync('/dev/net/tun')) throw tunnelUnavailable('/dev/net/tun is missing');
}

function remoteScript(s: TunnelSpec, localPublic: string): string {
  const dir = shellQuote(s.remoteDir);
  const key = shellQuote(`${s.remoteDir}/wg.key`);
  return `set -e
command -v wireguard-go >/dev/null 2>&1 || { echo "wireguard-go is not installed on the host" >&2; exit 3; }
command -v wg >/dev/null 2>&1 || { echo "wg (wireguard-tools) is not installed on the host" >&2; exit 3; }
umask 077
mkdir -p ${dir}
[ -s ${key} ] || wg genkey > ${key}
if ! ip link show ${s.iface} >/dev/null 2>&1; then
  WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go ${s.iface} </dev/null >/dev/null 2>&1
fi
wg set ${s.iface} private-key ${key} listen-port ${s.port} peer ${shellQuote(localPublic)} allowed-ips ${s.local}/32
ip addr replace ${s.remote}/24 dev ${s.iface}
ip link set ${s.iface} up
iptables -C DOCKER-USER -i ${s.iface} -j ACCEPT 2>/dev/null || iptables -I DOCKER-USER -i ${s.iface} -j ACCEPT
iptables -C DOCKER-USER -o ${s.iface} -j ACCEPT 2>/dev/null || iptables -I DOCKER-USER -o ${s.iface} -j ACCEPT
wg pubkey < ${key}
`;
}

/** Brings both ends up (idempotent) and routes the host's range into the tunnel. */
export async function tunnelUp(ssh: SshAccess, s: TunnelSpec): Promise<void> {
  checkTunnelPossible();
  if (!existsSync(s.keyFile)) {
    mkdirSync(dirname(s.keyFile), { recursive: true, mode: 0o700 });
    writeFileSync(s.keyFile, await run('wg', ['genkey'], 'Making a WireGuard key'), { mode: 0o600 });
  }
  const localPublic = (await run('wg', ['pubkey'], 'Reading the WireGuard key', readFileSync(s.keyFile, 'utf8'))).trim();
  const remotePublic = (await runRemoteScript(ssh, remoteScript(s, localPublic), 'Setting up the WireGuard end on the host')).trim().split('\n').pop() ?? '';
  if (!(await interfaceExists(s.iface))) await startWireguardGo(s.iface);
  await run('wg', ['set', s.iface, 'private-key', s.keyFile, 'peer', remotePublic, 'endpoint', `${s.endpointHost}:${s.port}`, 'allowed-ips', s.range, 'persistent-keepalive', '15'], 'Configuring the WireGuard interface');
  await run('ip', ['addr', 'replace', `${s.local}/32`, 'dev', s.iface], 'Addressing the WireGuard interface');
  await run('ip', ['link', 'set', s.iface, 'up'], 'Bringing the WireGuard interface up');
  await run('ip', ['route', 'replace', s.range, 'dev', s.iface], `Routing ${s.range} into the tunnel`);
}

async function interfaceExists(iface: string): Promise<boolean> {
  return (await capture('ip', ['link', 'show', iface]).catch(() => ({ code: 1 }))).code === 0;
}

/** wireguard-go puts itself in the background once the interface exists; it ends when the interface is deleted. */
async function startWireguardGo(iface: string): Promise<void> {
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('wireguard-go', [iface], { stdio: 'ignore', env: { ...process.env, ...USERSPACE_ENV } });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? tunnelUnavailable('`wireguard-go` is not installed') : e));
    child.on('exit', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new CiloError('TUNNEL_FAILED', `wireguard-go could not create the interface ${iface} (exit ${code}).`, { hint: 'Check /dev/net/tun and that no other interface has that name, or use --transport ssh.' });
}

/** Removes both ends (the route goes with the interface) and the host's key; what is already gone is fine. */
export async function tunnelDown(ssh: SshAccess | undefined, s: Pick<TunnelSpec, 'iface' | 'remoteDir'>): Promise<void> {
  if (await interfaceExists(s.iface)) await capture('ip', ['link', 'del', s.iface]);
  if (!ssh) return;
  await runRemoteScript(
    ssh,
    `ip link del ${s.iface} 2>/dev/null || true
iptables -D DOCKER-USER -i ${s.iface} -j ACCEPT 2>/dev/null || true
iptables -D DOCKER-USER -o ${s.iface} -j ACCEPT 2>/dev/null || true
rm -rf ${shellQuote(s.remoteDir)}
`,
    'Removing the WireGuard end on the host',
  );
}

/** Whether this machine's end is up, and the peer's last handshake (unix seconds; 0: none yet). */
export async function tunnelState(iface: string): Promise<{ up: boolean; handshake: number }> {
  if (!(await interfaceExists(iface))) return { up: false, handshake: 0 };
  const r = await capture('wg', ['show', iface, 'latest-handshakes']).catch(() => ({ code: 1, stdout: '' }));
  const n = Number(r.stdout.trim().split(/\s+/)[1] ?? 0);
  return { up: true, handshake: Number.isFinite(n) ? n : 0 };
}
