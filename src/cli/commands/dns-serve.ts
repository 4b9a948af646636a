import { serveDnsServer } from '../../core/dns/dns-server.js';
import { cliContext } from '../output/context.js';

interface DnsServeOptions {
  token?: string;
}

/**
 * Runs until SIGTERM/SIGINT, supervising shared services every second. Errors (port in use...)
 * reach main's reporter and so the log.
 */
export default async function dnsServe(opts: DnsServeOptions): Promise<void> {
  await serveDnsServer(cliContext(), { token: opts.token });
}
