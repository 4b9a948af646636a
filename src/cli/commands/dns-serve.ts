import { serveDns } from '../../dns/serve.js';
import { ciloPaths } from '../../state/paths.js';

interface DnsServeOptions {
  token?: string;
}

/** Runs until SIGTERM/SIGINT. Errors (port in use...) reach main's reporter and so the log. */
export default async function dnsServe(opts: DnsServeOptions): Promise<void> {
  await serveDns(ciloPaths(), { token: opts.token });
}
