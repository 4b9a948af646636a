/**
 * The body of the long-running `cilo dns serve` process: bind, announce itself (pid files),
 * answer until SIGTERM/SIGINT, run the caller's supervisor tick once a second, clean up.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { usageError } from '../errors.js';
import type { State } from '../domain/state.js';
import type { CiloPaths } from '../state/paths.js';
import { readState, ensureHome } from '../state/store.js';
import { DNS_ADDRESS, identityText, removeInstance, writeInstance } from './instance.js';
import { startDnsServer, type DnsServer } from './server.js';
import { watchStateZone } from './zone-source.js';

const TICK_MS = 1000;

export interface ServeOptions {
  /** Start token chosen by `cilo dns start`; a foreground `dns serve` makes its own. */
  token?: string | undefined;
  log?: (line: string) => void;
  /**
   * Work done once a second (never two at a time) with the state the zone was last built from
   * and `seen(env)`: when the server last answered a name of `env` (ms since the epoch, null if
   * never), kept in memory rather than written per query.
   */
  onTick?: (state: Readonly<State>, log: (line: string) => void, seen: (env: string) => number | null) => Promise<void>;
  /**
   * Wakes an idle-paused environment: an answer about one of its names is sent once this settles
   * (at most a few seconds later); other answers never wait for it. `why`: `DNS query for <name>`.
   */
  onWake?: (env: string, why: string) => Promise<unknown>;
}

function timestamped(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** Serves until a termination signal; resolves after cleanup. Throws CiloError if it cannot bind. */
export async function serveDns(paths: CiloPaths, opts: ServeOptions = {}): Promise<void> {
  const log = opts.log ?? timestamped;
  if (opts.token !== undefined && !/^[0-9a-f]{8,64}$/.test(opts.token)) throw usageError('--token must be 8 to 64 lowercase hex digits.');
  ensureHome(paths);
  const port = readState(paths).dns_port;
  const token = opts.token ?? randomBytes(8).toString('hex');
  const zones = watchStateZone(paths, { log });
  let server: DnsServer;
  try {
    server = await startDnsServer({ host: DNS_ADDRESS, port, loadZone: zones.current, log, identity: identityText(process.pid, token), onWake: opts.onWake });
  } catch (e) {
    zones.close();
    throw e;
  }
  zones.current(); // load now, so a bad state file shows in the log at start
  try {
    writeInstance(paths, { pid: process.pid, port, token, started_at: new Date().toISOString() });
  } catch (e) {
    // Without its pid file nobody could find or stop this server: do not keep the port.
    await server.close();
    zones.close();
    throw e;
  }
  log(`listening on ${DNS_ADDRESS}:${port} (UDP and TCP), pid ${process.pid}`);

  let stopping: (reason: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stopping = resolve;
  });
  const onSignal = (sig: NodeJS.Signals): void => stopping(sig);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  let ticking = false;
  const tick = setInterval(() => {
    // A removed CILO_HOME (a deleted test home, say) leaves nothing to serve: do not linger.
    if (!existsSync(paths.home)) {
      stopping('CILO_HOME removed');
      return;
    }
    if (ticking || !opts.onTick) return;
    ticking = true;
    opts.onTick(zones.state(), log, server.seen)
      .catch((e: unknown) => log(`supervisor: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        ticking = false;
      });
  }, TICK_MS);

  const reason = await stopped;
  clearInterval(tick);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  await server.close();
  zones.close();
  removeInstance(paths, process.pid);
  log(`stopped (${reason})`);
}
