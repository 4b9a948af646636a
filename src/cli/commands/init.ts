import { initHome } from '../../core/project/init.js';
import { baseSubnetCidr } from '../../core/project/base-subnet.js';
import { out, printResult } from '../output/print.js';
import { cliContext } from '../output/context.js';

interface InitOptions {
  baseSubnet?: string[];
  dnsPort?: number;
  force?: boolean;
  json?: boolean;
}

export default async function init(opts: InitOptions): Promise<void> {
  const r = await initHome(cliContext(), { baseSubnets: opts.baseSubnet?.map(baseSubnetCidr), dnsPort: opts.dnsPort, force: opts.force });
  if (opts.json) printResult(r);
  else {
    out(`cilo home ${r.home} ready (subnets ${r.base_subnets.join(', ')}, DNS on 127.0.0.1:${r.dns_port}).`);
    // The original's init configured the system resolver; this one does not (it needs root).
    if (!r.system_resolver) out('Names such as web.<env>.test do not resolve on this machine yet: run `sudo cilo dns setup` (or `cilo dns setup --print-manual` for the steps).');
  }
}
