import { parseCidr, formatCidr } from '../../domain/subnet.js';
import { CiloError } from '../../errors.js';
import { withStateLock } from '../../state/store.js';
import type { CoreContext } from '../context.js';

export interface InitInput {
  baseSubnets?: string[] | undefined;
  dnsPort?: number | undefined;
}

export interface InitResult {
  home: string;
  base_subnets: string[];
  dns_port: number;
}

/** Creates CILO_HOME and its state; changes base subnets or DNS port only when given. Idempotent. */
export async function initHome(ctx: CoreContext, input: InitInput): Promise<InitResult> {
  const { paths } = ctx;
  const bases = input.baseSubnets?.map((b) => formatCidr(parseCidr(b)));
  if (input.dnsPort !== undefined && (input.dnsPort < 1 || input.dnsPort > 65535)) {
    throw new CiloError('USAGE', `--dns-port ${input.dnsPort} is not a valid port.`, { hint: 'Use a port between 1 and 65535, for example 5354.', exitCode: 2 });
  }
  const result = await withStateLock((state) => {
    if (bases) {
      const envs = Object.values(state.environments);
      if (envs.length > 0 && bases.join() !== state.base_subnets.join()) {
        throw new CiloError('USAGE', `Cannot change the base subnet while ${envs.length} environment(s) exist.`, {
          hint: "Destroy them first (`cilo destroy --all --force`), then run init again.",
        });
      }
      state.base_subnets = bases;
    }
    if (input.dnsPort !== undefined) state.dns_port = input.dnsPort;
    return { home: paths.home, base_subnets: state.base_subnets, dns_port: state.dns_port };
  }, paths);
  // The DNS server answers as soon as environments exist; a taken port is reported here.
  await ctx.dns.ensureRunning();
  return result;
}
