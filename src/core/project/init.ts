import { checkPrivateRange, parseCidr, formatCidr } from '../../domain/subnet.js';
import { DEFAULT_DNS_SUFFIX, type State } from '../../domain/state.js';
import { CiloError } from '../../errors.js';
import { withStateLock } from '../../state/store.js';
import type { CoreContext } from '../context.js';

export interface InitInput {
  baseSubnets?: string[] | undefined;
  dnsPort?: number | undefined;
  /** Takes base ranges outside the private ones too. */
  force?: boolean | undefined;
}

export interface InitResult {
  home: string;
  base_subnets: string[];
  dns_port: number;
  /**
   * Whether this machine's resolver sends cilo's names (`<service>.<env>.test`) to its DNS
   * server. `init` no longer sets it up (the original did): when false, run `cilo dns setup`.
   */
  system_resolver: boolean;
}

/** Creates CILO_HOME and its state; changes base subnets or DNS port only when given. Idempotent. */
export async function initHome(ctx: CoreContext, input: InitInput): Promise<InitResult> {
  const { paths } = ctx;
  const bases = input.baseSubnets?.map((b) => formatCidr(parseCidr(b)));
  for (const b of bases ?? []) checkPrivateRange(b, '--base-subnet', input.force);
  if (input.dnsPort !== undefined && (input.dnsPort < 1 || input.dnsPort > 65535)) {
    throw new CiloError('USAGE', `--dns-port ${input.dnsPort} is not a valid port.`, { hint: 'Use a port between 1 and 65535, for example 5354.', exitCode: 2 });
  }
  let snapshot: State | undefined;
  const result = await withStateLock((state) => {
    snapshot = state;
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
  return { ...result, system_resolver: await systemResolverRoutes(ctx, snapshot) };
}

/**
 * Whether names will resolve outside cilo's own server: asked of the system resolver for a
 * name of a running environment (as `status` does), or, with none running, whether `cilo dns
 * setup` routed the default suffix.
 */
async function systemResolverRoutes(ctx: CoreContext, state: State | undefined): Promise<boolean> {
  const running = Object.values(state?.environments ?? {}).find((e) => e.status === 'running' && Object.keys(e.services).length > 0);
  const service = running ? Object.keys(running.services).sort()[0] : undefined;
  if (running && service !== undefined) return ctx.dns.systemResolves(`${service}.${running.name}${running.dns_suffix}`, 500).catch(() => false);
  return ctx.dnsAdmin.resolverRoutes(DEFAULT_DNS_SUFFIX).catch(() => false);
}
