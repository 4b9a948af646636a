import { initHome } from '../../core/project/init.js';
import { baseSubnetCidr } from '../../core/project/base-subnet.js';
import { out, printResult } from '../output/print.js';
import { cliContext } from '../output/context.js';

interface InitOptions {
  baseSubnet?: string[];
  dnsPort?: number;
  json?: boolean;
}

export default async function init(opts: InitOptions): Promise<void> {
  const r = await initHome(cliContext(), { baseSubnets: opts.baseSubnet?.map(baseSubnetCidr), dnsPort: opts.dnsPort });
  if (opts.json) printResult(r);
  else out(`cilo home ${r.home} ready (subnets ${r.base_subnets.join(', ')}, DNS on 127.0.0.1:${r.dns_port}).`);
}
