/**
 * The SSH adapter: the system `ssh` client (no SSH library), one master connection per host
 * reused by every call (ControlMaster), host keys checked against cilo's own known_hosts
 * (StrictHostKeyChecking=yes: a key is trusted only after `cilo host add` showed it), and short
 * connect timeouts so an unreachable host fails within seconds instead of hanging.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { tail } from '../domain/text.js';
import { knownHostsName, type SshDestination, type UserKnownEntries } from '../domain/hosts.js';
import { CiloError } from '../errors.js';
import { capture, type CaptureResult } from '../proc/run.js';

export interface SshAccess {
  /** `ssh://user@box[:port]`, as ssh itself accepts it. */
  url: string;
  destination: SshDestination;
  identity?: string | undefined;
  knownHostsFile: string;
  /** The master connection's socket (one per host). */
  controlPath: string;
  /** Where the master's own messages go (it outlives the command that started it). */
  logFile: string;
  /** The SOCKS5 proxy the master serves on 127.0.0.1 (`-D`), if any. */
  socksPort?: number | undefined;
}

const CONNECT_TIMEOUT_S = 3;

/** The options every ssh call of cilo uses. */
export function sshOptions(a: SshAccess): string[] {
  const o = [
    'BatchMode=yes',
    'StrictHostKeyChecking=yes',
    `UserKnownHostsFile=${a.knownHostsFile}`,
    'GlobalKnownHostsFile=/dev/null',
    `ConnectTimeout=${CONNECT_TIMEOUT_S}`,
    'ServerAliveInterval=2',
    'ServerAliveCountMax=2',
    'ControlMaster=auto',
    `ControlPath=${a.controlPath}`,
    'ControlPersist=600',
    'LogLevel=ERROR',
  ];
  const args = o.flatMap((x) => ['-o', x]);
  if (a.identity) args.push('-i', a.identity, '-o', 'IdentitiesOnly=yes');
  return args;
}

async function sshProgram(args: string[], input?: string): Promise<CaptureResult> {
  try {
    return await capture('ssh', args, input === undefined ? {} : { input });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw sshMissing('ssh');
    throw e;
  }
}

function sshMissing(program: string): CiloError {
  return new CiloError('SSH_MISSING', `The \`${program}\` program (OpenSSH client) was not found on PATH.`, { hint: 'Install the OpenSSH client (Debian/Ubuntu: apt-get install openssh-client), then retry.' });
}

/** Quotes one word for the remote shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The host's public keys with their fingerprints, as the server offers them (ssh-keyscan). */
export async function scanHostKeys(d: SshDestination): Promise<{ line: string; fingerprint: string; type: string }[]> {
  let r: CaptureResult;
  try {
    r = await capture('ssh-keyscan', ['-T', String(CONNECT_TIMEOUT_S), '-p', String(d.port), d.host]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw sshMissing('ssh-keyscan');
    throw e;
  }
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const keys: { line: string; fingerprint: string; type: string }[] = [];
  for (const line of lines) {
    const fp = await capture('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], { input: `${line}\n` });
    const m = /^\d+\s+(SHA256:\S+)\s+.*\((\S+)\)\s*$/.exec(fp.stdout.trim());
    if (m?.[1] && m[2]) keys.push({ line, fingerprint: m[1], type: m[2] });
  }
  return keys;
}

/** Whether cilo's known_hosts has a key for the destination. */
export async function isKnownHost(a: Pick<SshAccess, 'destination' | 'knownHostsFile'>): Promise<boolean> {
  if (!existsSync(a.knownHostsFile)) return false;
  const r = await capture('ssh-keygen', ['-F', knownHostsName(a.destination), '-f', a.knownHostsFile]);
  return r.code === 0 && r.stdout.trim() !== '';
}

/**
 * The user's own known_hosts files, where ssh looks by default (UserKnownHostsFile's default:
 * `~/.ssh/known_hosts ~/.ssh/known_hosts2`), `~` being $HOME.
 */
export function userKnownHostsFiles(): string[] {
  const dir = join(homedir(), '.ssh');
  return [join(dir, 'known_hosts'), join(dir, 'known_hosts2')];
}

/** The entries each of the user's known_hosts files has for the destination (hashed names too: `ssh-keygen -F`). */
export async function userKnownEntries(d: SshDestination, files = userKnownHostsFiles()): Promise<UserKnownEntries[]> {
  const found: UserKnownEntries[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const r = await capture('ssh-keygen', ['-F', knownHostsName(d), '-f', file]);
    const lines = r.code === 0 ? r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')) : [];
    if (lines.length > 0) found.push({ file, lines });
  }
  return found;
}

/** Adds the lines (as ssh-keyscan printed them) to cilo's known_hosts; returns those it did not have. */
export function trustHostKeys(knownHostsFile: string, lines: string[]): string[] {
  mkdirSync(dirname(knownHostsFile), { recursive: true, mode: 0o700 });
  const have = existsSync(knownHostsFile) ? readFileSync(knownHostsFile, 'utf8').split('\n') : [];
  const add = [...new Set(lines.filter((l) => !have.includes(l)))];
  if (add.length > 0) appendFileSync(knownHostsFile, `${add.join('\n')}\n`, { mode: 0o600 });
  return add;
}

/** Removes exactly these lines from cilo's known_hosts (what a failed `host add` trusted). */
export function untrustHostKeys(knownHostsFile: string, lines: string[]): void {
  if (lines.length === 0 || !existsSync(knownHostsFile)) return;
  const kept = readFileSync(knownHostsFile, 'utf8').split('\n').filter((l) => l !== '' && !lines.includes(l));
  if (kept.length === 0) rmSync(knownHostsFile, { force: true });
  else writeFileSync(knownHostsFile, `${kept.join('\n')}\n`, { mode: 0o600 });
}

/** Removes the destination's keys from cilo's known_hosts. */
export async function forgetHostKeys(a: Pick<SshAccess, 'destination' | 'knownHostsFile'>): Promise<void> {
  if (existsSync(a.knownHostsFile)) await capture('ssh-keygen', ['-R', knownHostsName(a.destination), '-f', a.knownHostsFile]);
  rmSync(`${a.knownHostsFile}.old`, { force: true });
}

function sshFailure(a: SshAccess, what: string, stderr: string): CiloError {
  const why = tail(stderr.trim(), 2) || 'no answer';
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(stderr)) {
    return new CiloError('HOST_KEY_UNKNOWN', `The SSH host key of ${a.url} is not one cilo trusts (${why}).`, {
      hint: 'Check the key with its owner; `cilo host add` shows its fingerprint and takes --accept-host-key FINGERPRINT.',
    });
  }
  return new CiloError('HOST_UNREACHABLE', `${what} failed: cannot reach ${a.url} over SSH (${why}).`, {
    hint: 'Check that the machine is up and answers `ssh` with the same user and key, then retry.',
  });
}

/** True when the host's master connection is up. */
export async function masterAlive(a: SshAccess): Promise<boolean> {
  if (!existsSync(a.controlPath)) return false;
  const r = await sshProgram([...sshOptions(a), '-O', 'check', a.url]);
  return r.code === 0;
}

/**
 * Makes sure the master connection is up and forwards `localSocket` to the engine's socket on
 * the host. Every later ssh call (commands, rsync, compose's) rides on the same connection.
 * A new master serves the SOCKS proxy too: on `a.socksPort`, or, when something else listens
 * there by now, on a free port; the port a new master serves is returned (undefined: reused),
 * and whether the master is new (`fresh`: it has none of the last one's loopback forwards).
 */
export async function ensureForward(a: SshAccess, localSocket: string, remoteSocket: string): Promise<{ socksPort: number | undefined; fresh: boolean }> {
  const alive = await masterAlive(a); // one `ssh -O check`
  if (alive && existsSync(localSocket)) return { socksPort: undefined, fresh: false };
  if (alive) {
    // The master lost its forward (or was started without it): add it again.
    rmSync(localSocket, { force: true });
    const r = await sshProgram([...sshOptions(a), '-O', 'forward', '-L', `${localSocket}:${remoteSocket}`, a.url]);
    if (r.code !== 0) throw sshFailure(a, 'Forwarding the engine socket', r.stderr);
    return { socksPort: undefined, fresh: false };
  }
  return { socksPort: await startForwarding(a, localSocket, remoteSocket), fresh: true };
}

/** Starts a new master with the engine socket's forward (and the SOCKS proxy); returns the proxy's port. */
async function startForwarding(a: SshAccess, localSocket: string, remoteSocket: string): Promise<number | undefined> {
  rmSync(localSocket, { force: true });
  rmSync(a.controlPath, { force: true });
  mkdirSync(dirname(localSocket), { recursive: true, mode: 0o700 });
  mkdirSync(dirname(a.controlPath), { recursive: true, mode: 0o700 });
  const forwards = ['-f', '-N', '-o', 'ExitOnForwardFailure=yes', '-o', 'StreamLocalBindUnlink=yes', '-L', `${localSocket}:${remoteSocket}`];
  if (!a.socksPort) {
    await startMaster(a, forwards);
    return undefined;
  }
  let port = (await loopbackPortFree(a.socksPort)) ? a.socksPort : await freeLoopbackPort();
  try {
    await startMaster(a, [...forwards, '-D', `127.0.0.1:${port}`]);
  } catch (e) {
    // Taken between the check and ssh's bind: once more, on a port free now.
    if (!new RegExp(`cannot listen to port: ${port}\\b`).test(readLog(a))) throw e;
    port = await freeLoopbackPort();
    await startMaster(a, [...forwards, '-D', `127.0.0.1:${port}`]);
  }
  return port;
}

function readLog(a: SshAccess): string {
  try {
    return readFileSync(a.logFile, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Starts the master in the background (`ssh -f`). Its stderr goes to a file rather than a pipe:
 * the background process keeps its stderr open, and a pipe would never close.
 */
async function startMaster(a: SshAccess, extra: string[]): Promise<void> {
  mkdirSync(dirname(a.logFile), { recursive: true, mode: 0o700 });
  const fd = openSync(a.logFile, 'w', 0o600);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('ssh', [...sshOptions(a), ...extra, a.url], { stdio: ['ignore', 'ignore', fd] });
    const timer = setTimeout(() => child.kill('SIGTERM'), (CONNECT_TIMEOUT_S + 12) * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? sshMissing('ssh') : e);
    });
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? 255);
    });
  }).finally(() => closeSync(fd));
  if (code !== 0) throw sshFailure(a, 'Connecting', readFileSync(a.logFile, 'utf8'));
}

/** The ssh argv that adds (`forward`) or removes (`cancel`) 127.0.0.1:`port` here -> 127.0.0.1:`port` on the host, on the master connection. */
export function loopbackForwardArgs(a: SshAccess, op: 'forward' | 'cancel', port: number): string[] {
  return [...sshOptions(a), '-O', op, '-L', `127.0.0.1:${port}:127.0.0.1:${port}`, a.url];
}

/**
 * Makes each port of the host's 127.0.0.1 answer on this machine's 127.0.0.1 through the master
 * connection (issue #25: the router's ports, databases). Idempotent: the master accepts a forward
 * it already has. A port something else listens on here fails with ssh's reason.
 */
export async function forwardLoopbackPorts(a: SshAccess, ports: number[]): Promise<void> {
  const failed: { port: number; stderr: string }[] = [];
  // Each port on its own: one taken here does not keep the others from being forwarded.
  for (const port of [...new Set(ports)].sort((x, y) => x - y)) {
    const r = await sshProgram(loopbackForwardArgs(a, 'forward', port));
    if (r.code !== 0) failed.push({ port, stderr: r.stderr });
  }
  const first = failed[0];
  if (first) {
    throw new CiloError('HOST_COMMAND_FAILED', `Forwarding 127.0.0.1:${failed.map((f) => f.port).join(', ')} from ${a.url} failed (${tail(first.stderr.trim(), 2) || 'no reason given'}).`, {
      hint: 'Stop what listens on that port on this machine (`ss -ltnp`), then run `cilo up` of the environment again.',
    });
  }
}

/** Removes these loopback forwards; one the master does not have (or no master) is fine. */
export async function cancelLoopbackPorts(a: SshAccess, ports: number[]): Promise<void> {
  if (!existsSync(a.controlPath)) return;
  for (const port of [...new Set(ports)]) await sshProgram(loopbackForwardArgs(a, 'cancel', port)).catch(() => undefined);
}

/** Ends the host's master connection (and with it the forwarded socket). */
export async function stopMaster(a: SshAccess, localSocket?: string): Promise<void> {
  if (existsSync(a.controlPath)) await sshProgram([...sshOptions(a), '-O', 'exit', a.url]).catch(() => undefined);
  rmSync(a.controlPath, { force: true });
  if (localSocket) rmSync(localSocket, { force: true });
}

/** Runs a command on the host (through the master); a non-zero exit is an error naming `what`. */
export async function runRemote(a: SshAccess, argv: string[], what: string, input?: string): Promise<string> {
  const r = await sshProgram([...sshOptions(a), a.url, '--', argv.map(shellQuote).join(' ')], input);
  if (r.code === 255) throw sshFailure(a, what, r.stderr);
  if (r.code !== 0) {
    throw new CiloError('HOST_COMMAND_FAILED', `${what} on ${a.url} failed (exit ${r.code}): ${tail(r.stderr.trim(), 1) || 'no message'}`, {
      details: `command: ${argv.join(' ')}\n${tail(r.stderr, 12)}`,
      hint: 'Run the command on the host by hand to see more, fix it, then retry.',
    });
  }
  return r.stdout;
}

/** Runs a shell script on the host (as `sh -s`, the script on stdin). */
export async function runRemoteScript(a: SshAccess, script: string, what: string): Promise<string> {
  return runRemote(a, ['sh', '-s'], what, script);
}

/**
 * Makes `remoteDir` a copy of `localDir` (one way: files removed here are removed there): rsync
 * over the master connection when both ends have it, else a tar stream.
 */
export async function syncTree(a: SshAccess, localDir: string, remoteDir: string): Promise<void> {
  await runRemote(a, ['mkdir', '-p', remoteDir], 'Preparing the workspace copy');
  const rshell = ['ssh', ...sshOptions(a)].map(shellQuote).join(' ');
  const hasRsync = (await capture('rsync', ['--version']).catch(() => ({ code: 127 }))).code === 0 && (await sshProgram([...sshOptions(a), a.url, '--', 'command -v rsync'])).code === 0;
  if (hasRsync) {
    const d = a.destination;
    const target = `${d.user ? `${d.user}@` : ''}${d.host.includes(':') ? `[${d.host}]` : d.host}:${remoteDir}/`;
    const r = await capture('rsync', ['-a', '--delete', '-e', `${rshell} -p ${d.port}`, `${localDir}/`, target]);
    if (r.code !== 0) {
      throw new CiloError('SYNC_FAILED', `Syncing the workspace to ${a.url} failed (rsync exit ${r.code}): ${tail(r.stderr.trim(), 1)}`, {
        hint: 'Check free space and permissions of the remote directory, then retry `cilo up`.',
      });
    }
    return;
  }
  await tarOver(a, localDir, remoteDir);
}

/** `tar -c | ssh host 'tar -x'`, into an emptied directory. */
async function tarOver(a: SshAccess, localDir: string, remoteDir: string): Promise<void> {
  const q = shellQuote(remoteDir);
  const code = await new Promise<{ code: number; err: string }>((resolve, reject) => {
    const tar = spawn('tar', ['-C', localDir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ssh = spawn('ssh', [...sshOptions(a), a.url, '--', `rm -rf ${q} && mkdir -p ${q} && tar -C ${q} -xf -`], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    tar.stderr.on('data', (c: Buffer) => (err += c.toString()));
    ssh.stderr.on('data', (c: Buffer) => (err += c.toString()));
    tar.stdout.pipe(ssh.stdin);
    tar.on('error', reject);
    ssh.on('error', reject);
    ssh.on('close', (c) => resolve({ code: c ?? 255, err }));
  });
  if (code.code !== 0) {
    throw new CiloError('SYNC_FAILED', `Syncing the workspace to ${a.url} failed (tar over ssh, exit ${code.code}): ${tail(code.err.trim(), 1)}`, {
      hint: 'Check free space and permissions of the remote directory, then retry `cilo up`.',
    });
  }
}

/** Whether nothing listens on 127.0.0.1:`port` now (a listen there succeeds). */
export async function loopbackPortFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now (the kernel's pick). */
export async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The SSH endpoint of a Docker context (`docker context inspect`), for `host add <context>`. */
export async function dockerContextHost(name: string): Promise<string | undefined> {
  const r = await capture('docker', ['context', 'inspect', name, '--format', '{{.Endpoints.docker.Host}}']).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  return r.stdout.trim() || undefined;
}
