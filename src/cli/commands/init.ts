import { initHome } from '../../core/project/init.js';
import { baseSubnetCidr } from '../../core/project/base-subnet.js';
import { isLoopbackSuffix } from '../../domain/names.js';
import { out, printResult } from '../output/print.js';
import { cliContext } from '../output/context.js';

interface InitOptions {
  baseSubnet?: string[];
  dnsPort?: number;
  force?: boolean;
  routing?: string;
  routerHttpPort?: number;
  routerHttpsPort?: number;
  dnsSuffix?: string;
  memoryBudget?: string;
  idlePause?: string;
  json?: boolean;
}

export default async function init(opts: InitOptions): Promise<void> {
  const r = await initHome(cliContext(), {
    baseSubnets: opts.baseSubnet?.map(baseSubnetCidr),
    dnsPort: opts.dnsPort,
    force: opts.force,
    routing: opts.routing,
    routerHttpPort: opts.routerHttpPort,
    routerHttpsPort: opts.routerHttpsPort,
    dnsSuffix: opts.dnsSuffix,
    memoryBudget: opts.memoryBudget,
    idlePause: opts.idlePause,
  });
  if (opts.json) {
    printResult(r);
    return;
  }
  out(`cilo home ${r.home} ready (subnets ${r.base_subnets.join(', ')}, DNS on 127.0.0.1:${r.dns_port}).`);
  const ports = `127.0.0.1:${r.routing.http_port} (HTTP) and :${r.routing.https_port} (HTTPS)`;
  const routing = r.routing.mode === 'direct' ? 'direct' : r.routing.mode === 'router' ? `router on ${ports}` : `auto (the router where needed, on ${ports})`;
  out(`Routing: ${routing}; DNS suffix of new environments: ${r.dns_suffix} (unless a project's .cilo/config.yml names one).`);
  if (r.memory_budget !== null) out(`Memory budget: ${r.memory_budget}; \`up\` refuses (or, with --wait-for-capacity, waits for) an environment that does not fit.`);
  if (r.idle_pause_default !== null) out(`Idle pause: environments unused for ${r.idle_pause_default} are paused and wake on their next use (unless their up or .cilo/config.yml says otherwise).`);
  if (isLoopbackSuffix(r.dns_suffix)) out(`Names under ${r.dns_suffix} need no resolver set-up: browsers and curl send them to 127.0.0.1 themselves.`);
  // The original's init configured the system resolver; this one does not (it needs root).
  else if (!r.system_resolver) out(`Names such as web.<env>${r.dns_suffix} do not resolve on this machine yet: run \`sudo cilo dns setup\` (or \`cilo dns setup --print-manual\` for the steps).`);
}
