/**
 * Chooses the loopback ports cilo publishes (issue #25): kept when already given, else the
 * first port of cilo's range that no environment or shared service of this home holds and that
 * nothing on this machine listens on now. Called inside a state transaction, so two commands
 * never hand out one port twice.
 */
import { HOST_PORT_FIRST, HOST_PORT_LAST } from '../../domain/host-ports.js';
import { CiloError } from '../../errors.js';
import type { CoreContext } from '../context.js';

/**
 * The loopback port of each `wanted` container port: the one in `current` when it has one, else
 * a new one (added to `taken`). Ports no longer wanted are dropped, which frees them.
 */
export async function chooseHostPorts(ctx: Pick<CoreContext, 'local'>, current: Record<string, number> | undefined, wanted: string[], taken: Set<number>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let next = HOST_PORT_FIRST;
  for (const key of wanted) {
    const kept = current?.[key];
    if (kept !== undefined) {
      out[key] = kept;
      continue;
    }
    for (;;) {
      if (next > HOST_PORT_LAST) {
        throw new CiloError('PORTS_EXHAUSTED', `No loopback port is left in ${HOST_PORT_FIRST}-${HOST_PORT_LAST} to publish ${key}: every one is held by an environment of this home or in use on this machine.`, {
          hint: 'Destroy environments you no longer need (`cilo list`), then run `cilo up` again.',
        });
      }
      const port = next++;
      if (taken.has(port)) continue;
      if (ctx.local.routes.loopbackPortFree && !(await ctx.local.routes.loopbackPortFree(port))) continue;
      out[key] = port;
      taken.add(port);
      break;
    }
  }
  return out;
}
