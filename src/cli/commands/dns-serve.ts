import { superviseTick } from '../../core/environments/supervise.js';
import { serveDns } from '../../dns/serve.js';
import { ciloPaths } from '../../state/paths.js';
import { cliContext } from '../output/context.js';

interface DnsServeOptions {
  token?: string;
}

/**
 * Runs until SIGTERM/SIGINT, supervising shared services every second. Errors (port in use...)
 * reach main's reporter and so the log.
 */
export default async function dnsServe(opts: DnsServeOptions): Promise<void> {
  const paths = ciloPaths();
  const ctx = cliContext({ paths });
  await serveDns(paths, { token: opts.token, onTick: (state, log) => superviseTick(() => ctx, state, log) });
}
