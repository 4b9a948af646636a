import { initHome } from '../../core/project/init.js';
import { legacyBaseToCidr } from '../../state/migrate-v2.js';
import { out, printJson } from '../output/print.js';
import { cliContext } from '../output/context.js';

interface InitOptions {
  baseSubnet?: string[];
  dnsPort?: number;
  json?: boolean;
}

/** The original's prefix form `10.224.` means 10.224.0.0/16; a CIDR (or anything else, refused later) is kept. */
const asCidr = (base: string): string => (base.includes('/') ? base : (legacyBaseToCidr(base) ?? base));

export default async function init(opts: InitOptions): Promise<void> {
  const r = await initHome(cliContext(), { baseSubnets: opts.baseSubnet?.map(asCidr), dnsPort: opts.dnsPort });
  if (opts.json) printJson(r);
  else out(`cilo home ${r.home} ready (subnets ${r.base_subnets.join(', ')}, DNS on 127.0.0.1:${r.dns_port}).`);
}
