/**
 * `cilo init --routing MODE --router-http-port N --router-https-port N` (issue #25): the
 * settings asked for, checked, and what to tell the user about the router's ports on this
 * machine. Pure: init (core/project/init.ts) probes the ports and the engine and hands the
 * answers in.
 */
import { usageError } from '../errors.js';
import { ROUTING_MODES, type RoutingMode, type RoutingSettings } from './routing.js';

export interface RoutingChoice {
  mode?: string | undefined;
  httpPort?: number | undefined;
  httpsPort?: number | undefined;
}

/** Ports a non-root process (and a rootless engine) may not bind without a sysctl. */
export const FIRST_UNPRIVILEGED_PORT = 1024;

/** What to suggest when 80/443 cannot be had: the usual unprivileged pair. */
export const SUGGESTED_PORTS = { http: 8080, https: 8443 } as const;

const FLAG = { http: '--router-http-port', https: '--router-https-port' } as const;

function isMode(m: string): m is RoutingMode {
  return (ROUTING_MODES as readonly string[]).includes(m);
}

function checkPort(port: number | undefined, flag: string): void {
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw usageError(`${flag} ${port} is not a valid port: use a port between 1 and 65535, for example ${flag === FLAG.http ? SUGGESTED_PORTS.http : SUGGESTED_PORTS.https}.`);
  }
}

/**
 * The settings after applying `choice` to `current` (what `auto` found is kept: the router
 * helper's probe owns it). Throws a usage error, naming the flag, for a bad mode, a port out of
 * range, or the same port for HTTP and HTTPS.
 */
export function applyRoutingChoice(current: RoutingSettings, choice: RoutingChoice): RoutingSettings {
  if (choice.mode !== undefined && !isMode(choice.mode)) {
    throw usageError(`--routing ${JSON.stringify(choice.mode)} is not a routing mode: use auto, direct or router.`);
  }
  checkPort(choice.httpPort, FLAG.http);
  checkPort(choice.httpsPort, FLAG.https);
  const next: RoutingSettings = {
    ...current,
    mode: choice.mode ?? current.mode,
    http_port: choice.httpPort ?? current.http_port,
    https_port: choice.httpsPort ?? current.https_port,
  };
  if (next.http_port === next.https_port) {
    const given = choice.httpPort !== undefined ? FLAG.http : FLAG.https;
    throw usageError(`The router's HTTP and HTTPS ports would both be ${next.http_port}: give ${given} another port than ${given === FLAG.http ? FLAG.https : FLAG.http} (for example ${SUGGESTED_PORTS.http} and ${SUGGESTED_PORTS.https}).`);
  }
  return next;
}

export function choosesRouting(choice: RoutingChoice): boolean {
  return choice.mode !== undefined || choice.httpPort !== undefined || choice.httpsPort !== undefined;
}

/** What binding a port on 127.0.0.1 found: free, held by another program, or refused (EACCES). */
export type LoopbackPortState = 'free' | 'taken' | 'denied';

export interface RouterPortFacts {
  /** Each port asked about (the router's two, or those of them worth asking about). */
  ports: Partial<Record<'http' | 'https', LoopbackPortState>>;
  /** The engine runs rootless (`docker info` SecurityOptions has `name=rootless`). */
  rootless: boolean;
}

function portsFlags(settings: RoutingSettings, which: ('http' | 'https')[]): string {
  const low = (k: 'http' | 'https'): number => (settings[`${k}_port`] < FIRST_UNPRIVILEGED_PORT ? SUGGESTED_PORTS[k] : settings[`${k}_port`] + 8000 > 65535 ? SUGGESTED_PORTS[k] : settings[`${k}_port`] + 8000);
  return `\`cilo init ${which.map((k) => `${FLAG[k]} ${low(k)}`).join(' ')}\``;
}

/**
 * One sentence per problem with the router's ports on this machine, each naming the flags that
 * choose others. Empty in direct mode (no router) and when both ports can be had.
 */
export function routerPortWarnings(settings: RoutingSettings, facts: RouterPortFacts): string[] {
  if (settings.mode === 'direct') return [];
  const out: string[] = [];
  const which = (state: LoopbackPortState): ('http' | 'https')[] => (['http', 'https'] as const).filter((k) => facts.ports[k] === state);
  const port = (k: 'http' | 'https'): number => settings[`${k}_port`];
  const list = (ks: ('http' | 'https')[]): string => ks.map((k) => `${port(k)} (${k.toUpperCase()})`).join(' and ');
  const taken = which('taken');
  if (taken.length > 0) {
    out.push(`Port ${list(taken)} on 127.0.0.1 ${taken.length > 1 ? 'are' : 'is'} used by another program, so the router cannot publish there: choose ${taken.length > 1 ? 'others' : 'another'} with ${portsFlags(settings, taken)}.`);
  }
  const low = (['http', 'https'] as const).filter((k) => port(k) < FIRST_UNPRIVILEGED_PORT && facts.ports[k] !== 'taken');
  if (facts.rootless && low.length > 0) {
    out.push(`The Docker engine runs rootless, which cannot publish port ${list(low)} (below ${FIRST_UNPRIVILEGED_PORT}) unless net.ipv4.ip_unprivileged_port_start allows it: choose ${low.length > 1 ? 'others' : 'another'} with ${portsFlags(settings, low)}.`);
  } else {
    const denied = which('denied');
    if (denied.length > 0) {
      // A root engine publishes them anyway; one that runs as this user (rootless, some desktop set-ups) cannot.
      out.push(`Port ${list(denied)} on 127.0.0.1 is privileged for this user (binding it failed with EACCES), so an engine that runs as this user cannot publish the router there: if so, choose ${denied.length > 1 ? 'others' : 'another'} with ${portsFlags(settings, denied)}.`);
    }
  }
  return out;
}
