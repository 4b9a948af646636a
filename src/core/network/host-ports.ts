/**
 * Chooses the loopback ports cilo publishes (issue #25): kept when already given, else the
 * first port of cilo's range that no environment or shared service of this home holds and that
 * nothing on this machine listens on now. Called inside a state transaction, so two commands
 * never hand out one port twice.
 */
import { HOST_PORT_FIRST, HOST_PORT_LAST, hostPortCandidates } from '../../domain/host-ports.js';
import { CiloError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import type { CoreContext } from '../context.js';

/**
 * The loopback port of each `wanted` container port: the one in `current` when it has one, else
 * the one in `prefer` (a port it had before) when nobody took it and it is free, else a new one
 * (added to `taken`). Ports no longer wanted are dropped, which frees them.
 */
export async function chooseHostPorts(ctx: Pick<CoreContext, 'local' | 'paths'>, current: Record<string, number> | undefined, wanted: string[], taken: Set<number>, prefer: Record<string, number> = {}): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const candidates = hostPortCandidates(homeId(ctx.paths));
  const free = async (port: number): Promise<boolean> => !ctx.local.routes.loopbackPortFree || (await ctx.local.routes.loopbackPortFree(port));
  let i = 0;
  for (const key of wanted) {
    const kept = current?.[key];
    if (kept !== undefined) {
      out[key] = kept;
      continue;
    }
    const before = prefer[key];
    if (before !== undefined && !taken.has(before) && (await free(before))) {
      out[key] = before;
      taken.add(before);
      continue;
    }
    for (;;) {
      const port = candidates[i++];
      if (port === undefined) {
        throw new CiloError('PORTS_EXHAUSTED', `No loopback port is left in ${HOST_PORT_FIRST}-${HOST_PORT_LAST} to publish ${key}: every one is held by an environment of this home or in use on this machine.`, {
          hint: 'Destroy environments you no longer need (`cilo list`), then run `cilo up` again.',
        });
      }
      if (taken.has(port) || !(await free(port))) continue;
      out[key] = port;
      taken.add(port);
      break;
    }
  }
  return out;
}
