/**
 * Pointing the system resolver at cilo's DNS server for its suffixes (`cilo dns setup`):
 *   Linux: a systemd-resolved drop-in routing `~<suffix>` to 127.0.0.1:<port>;
 *   macOS: one `/etc/resolver/<suffix>` file per suffix.
 * `planResolver` is pure (what to write, what to run, the manual steps); the rest applies it.
 *
 * CILO_SYSTEM_ROOT (for tests only): a directory used in place of `/` for the files written,
 * with the root check and the systemd-resolved restart skipped.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CiloError, usageError } from '../errors.js';
import { tail } from '../domain/text.js';
import { capture } from '../proc/run.js';
import { ciloPaths, type CiloPaths } from '../state/paths.js';
import { DEFAULT_DNS_SUFFIX } from '../domain/state.js';
import { readState } from '../state/store.js';
import { writeFileAtomic } from '../files/atomic.js';
import { DNS_ADDRESS } from './instance.js';
import { isLoopbackSuffix, isValidSuffix, suffixLabels } from '../domain/names.js';

export type ResolverPlatform = 'linux' | 'darwin';

/** Marks files cilo wrote, so `uninstall` removes those and nothing else. */
export const MARKER = '# Written by `cilo dns setup`; removed by `cilo dns uninstall`.';
const RESOLVED_DROPIN = 'etc/systemd/resolved.conf.d/cilo.conf';
const MAC_RESOLVER_DIR = 'etc/resolver';
const RESTART_RESOLVED = ['systemctl', 'restart', 'systemd-resolved'];

export interface PlannedFile {
  path: string;
  content: string;
}

export interface ResolverPlan {
  platform: ResolverPlatform;
  port: number;
  suffixes: string[];
  files: PlannedFile[];
  /** Commands to run after writing (argument vectors, never shell strings). */
  commands: string[][];
  /** The same steps for a person to do by hand. */
  manual: string;
}

/** `.Dev.Local` -> `dev.local`; rejects anything that is not a DNS name (it also becomes a file name on macOS). */
export function validSuffix(suffix: string): string {
  const s = suffixLabels(suffix);
  if (!isValidSuffix(`.${s}`)) {
    throw usageError(`The DNS suffix "${suffix}" is not a valid domain.`, 'Use dot-separated labels of letters, digits and dashes, for example `.test`.');
  }
  return s;
}

export function planResolver(platform: ResolverPlatform, port: number, suffixes: string[], root = '/'): ResolverPlan {
  const domains = [...new Set(suffixes.map(validSuffix))].sort();
  if (platform === 'linux') {
    const content = `${MARKER}\n[Resolve]\nDNS=${DNS_ADDRESS}:${port}\nDomains=${domains.map((d) => `~${d}`).join(' ')}\n`;
    const path = join(root, RESOLVED_DROPIN);
    const manual = [
      `To resolve ${domains.map((d) => `.${d}`).join(', ')} names through cilo's DNS server (${DNS_ADDRESS}:${port}):`,
      '',
      'With systemd-resolved (most Linux distributions):',
      `  sudo mkdir -p /etc/systemd/resolved.conf.d`,
      `  sudo tee /${RESOLVED_DROPIN} <<'EOF'`,
      ...content.trimEnd().split('\n').map((l) => `  ${l}`),
      '  EOF',
      '  sudo systemctl restart systemd-resolved',
      '',
      'With dnsmasq (or NetworkManager using dnsmasq), add to its configuration:',
      ...domains.map((d) => `  server=/${d}/${DNS_ADDRESS}#${port}`),
      '',
      `Check: resolvectl query <project>.<env>.${domains[0] ?? 'test'}   (or dig @${DNS_ADDRESS} -p ${port} <name>)`,
      `Undo: sudo rm /${RESOLVED_DROPIN} && sudo systemctl restart systemd-resolved`,
    ].join('\n');
    return { platform, port, suffixes: domains, files: [{ path, content }], commands: [RESTART_RESOLVED], manual };
  }
  const files = domains.map((d) => ({ path: join(root, MAC_RESOLVER_DIR, d), content: `${MARKER}\nnameserver ${DNS_ADDRESS}\nport ${port}\n` }));
  const manual = [
    `To resolve ${domains.map((d) => `.${d}`).join(', ')} names through cilo's DNS server (${DNS_ADDRESS}:${port}):`,
    '',
    '  sudo mkdir -p /etc/resolver',
    ...domains.map((d) => `  printf 'nameserver ${DNS_ADDRESS}\\nport ${port}\\n' | sudo tee /${MAC_RESOLVER_DIR}/${d}`),
    '',
    `Check: scutil --dns | grep -A3 '${domains[0] ?? 'test'}'`,
    `Undo: sudo rm ${domains.map((d) => `/${MAC_RESOLVER_DIR}/${d}`).join(' ')}`,
  ].join('\n');
  return { platform, port, suffixes: domains, files, commands: [], manual };
}

interface SystemTarget {
  platform: ResolverPlatform;
  root: string;
  /** Under CILO_SYSTEM_ROOT: no root check, no service restart. */
  testRoot: boolean;
}

function systemTarget(): SystemTarget {
  const platform = process.platform;
  if (platform !== 'linux' && platform !== 'darwin') {
    throw new CiloError('DNS', `cilo cannot configure the system resolver on ${platform}.`, {
      hint: `Send queries for the suffix to ${DNS_ADDRESS} (port from \`cilo dns status\`) with your system's own tools.`,
    });
  }
  const testRoot = process.env.CILO_SYSTEM_ROOT;
  return testRoot ? { platform, root: testRoot, testRoot: true } : { platform, root: '/', testRoot: false };
}

function requireRoot(t: SystemTarget, command: 'setup' | 'uninstall'): void {
  if (t.testRoot || process.getuid?.() === 0) return;
  throw new CiloError('DNS', `\`cilo dns ${command}\` changes the system resolver's files in /etc and needs root.`, {
    hint: `Run it with sudo (\`sudo cilo dns ${command}\`), or run \`cilo dns setup --print-manual\` to see the steps and do them yourself.`,
  });
}

/** Suffixes cilo wrote before, so a setup for a new suffix keeps the older ones. */
function installedSuffixes(t: SystemTarget): string[] {
  try {
    if (t.platform === 'linux') {
      const text = readFileSync(join(t.root, RESOLVED_DROPIN), 'utf8');
      if (!text.includes(MARKER)) return [];
      const line = text.split('\n').find((l) => l.startsWith('Domains='));
      return (line?.slice('Domains='.length).split(/\s+/) ?? []).map((d) => d.replace(/^~/, '')).filter((d) => isValidSuffix(`.${d}`));
    }
    return ownedMacFiles(t).map((f) => f.name);
  } catch {
    return [];
  }
}

function ownedMacFiles(t: SystemTarget): { name: string; path: string }[] {
  const dir = join(t.root, MAC_RESOLVER_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, path: join(dir, name) }))
    .filter((f) => {
      try {
        return readFileSync(f.path, 'utf8').includes(MARKER);
      } catch {
        return false;
      }
    });
}

/**
 * Whether `cilo dns setup` pointed the system resolver at cilo's server for `suffix` (its
 * files are there). On a platform cilo cannot configure, false: the user routes it by hand.
 */
export function resolverRoutes(suffix: string): boolean {
  try {
    return installedSuffixes(systemTarget()).includes(suffixLabels(suffix));
  } catch {
    return false;
  }
}

export interface SetupInput {
  printManual?: boolean | undefined;
  dnsSuffix?: string | undefined;
}

export interface SetupResult {
  platform: ResolverPlatform;
  port: number;
  suffixes: string[];
  /** Files written (empty with --print-manual). */
  written: string[];
  /** Set with --print-manual: the steps, nothing done. */
  manual: string | null;
  restarted: boolean;
  warnings: string[];
}

/**
 * The suffixes to route: the default, the home's (`cilo init --dns-suffix`), every
 * environment's, the one asked for, and those set up before; never `.localhost`, which browsers
 * and curl send to 127.0.0.1 themselves (and systemd-resolved answers itself).
 */
function suffixesFor(paths: CiloPaths, t: SystemTarget, extra: string | undefined): string[] {
  const state = readState(paths);
  const out = [suffixLabels(DEFAULT_DNS_SUFFIX)];
  if (extra !== undefined) out.push(validSuffix(extra));
  for (const raw of [state.dns_suffix, ...Object.values(state.environments).map((e) => e.dns_suffix)]) {
    const s = suffixLabels(raw ?? '');
    if (isValidSuffix(`.${s}`)) out.push(s);
  }
  out.push(...installedSuffixes(t));
  return out.filter((s) => !isLoopbackSuffix(s));
}

/** Said when `--dns-suffix .localhost` is asked for: there is nothing to set up for it. */
function loopbackNote(extra: string | undefined): string[] {
  if (extra === undefined || !isLoopbackSuffix(extra)) return [];
  return [`Names under .${suffixLabels(extra)} need no resolver set-up: browsers and curl send them to 127.0.0.1, where cilo's router answers in router mode (\`cilo init --routing router\`); nothing was set up for it.`];
}

async function runCommands(t: SystemTarget, commands: string[][], warnings: string[]): Promise<boolean> {
  if (t.testRoot || commands.length === 0) return false;
  let restarted = true;
  for (const [cmd, ...args] of commands) {
    if (cmd === undefined) continue;
    try {
      const r = await capture(cmd, args);
      if (r.code !== 0) {
        restarted = false;
        warnings.push(`\`${[cmd, ...args].join(' ')}\` failed (exit ${r.code}): ${tail(r.stderr, 3) || 'no output'}; run it yourself.`);
      }
    } catch {
      restarted = false;
      warnings.push(`\`${cmd}\` is not available; restart systemd-resolved yourself.`);
    }
  }
  return restarted;
}

export async function setupResolver(input: SetupInput, paths: CiloPaths = ciloPaths()): Promise<SetupResult> {
  const t = systemTarget();
  const port = readState(paths).dns_port;
  const plan = planResolver(t.platform, port, suffixesFor(paths, t, input.dnsSuffix), t.root);
  const base = { platform: t.platform, port, suffixes: plan.suffixes };
  if (input.printManual) return { ...base, written: [], manual: plan.manual, restarted: false, warnings: loopbackNote(input.dnsSuffix) };
  requireRoot(t, 'setup');
  if (t.platform === 'linux' && !t.testRoot && !existsSync('/run/systemd/resolve')) {
    throw new CiloError('DNS', 'systemd-resolved is not running on this machine, so `cilo dns setup` has nothing to configure.', {
      hint: 'Run `cilo dns setup --print-manual` for the steps with other resolvers (dnsmasq, NetworkManager).',
    });
  }
  const written: string[] = [];
  for (const f of plan.files) {
    mkdirSync(join(f.path, '..'), { recursive: true, mode: 0o755 });
    writeFileAtomic(f.path, f.content, 0o644); // resolvers read it as another user
    written.push(f.path);
  }
  const warnings: string[] = loopbackNote(input.dnsSuffix);
  const restarted = await runCommands(t, plan.commands, warnings);
  return { ...base, written, manual: null, restarted, warnings };
}

export interface UninstallResult {
  removed: string[];
  /** Files at cilo's paths that cilo did not write: left alone. */
  kept: string[];
  restarted: boolean;
  warnings: string[];
}

export async function uninstallResolver(): Promise<UninstallResult> {
  const t = systemTarget();
  requireRoot(t, 'uninstall');
  const removed: string[] = [];
  const kept: string[] = [];
  if (t.platform === 'linux') {
    const path = join(t.root, RESOLVED_DROPIN);
    if (existsSync(path)) {
      if (readFileSync(path, 'utf8').includes(MARKER)) {
        rmSync(path, { force: true });
        removed.push(path);
      } else kept.push(path);
    }
  } else {
    for (const f of ownedMacFiles(t)) {
      rmSync(f.path, { force: true });
      removed.push(f.path);
    }
  }
  const warnings: string[] = [];
  const restarted = removed.length > 0 && t.platform === 'linux' ? await runCommands(t, [RESTART_RESOLVED], warnings) : false;
  return { removed, kept, restarted, warnings };
}
