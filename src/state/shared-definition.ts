/**
 * The definition a shared service was made from, as stored in state, read back with a check:
 * apart from schema.ts, which every command loads, because only shared-service work needs it.
 */
import * as v from 'valibot';
import { ComposeServiceSchema, firstProblem } from '../compose/model-schema.js';
import type { SharedDefinition } from '../domain/shared.js';
import type { SharedServiceState } from '../domain/state.js';

const Entries = v.record(v.string(), v.looseObject({}));
// Every field of SharedDefinition: v.object drops keys it does not name, and a definition read
// back without its configs and secrets differed from the same one made again (a false conflict).
const SharedDefinitionSchema = v.object({ service: ComposeServiceSchema, volumes: Entries, configs: v.optional(Entries), secrets: v.optional(Entries) });

/**
 * The definition a shared service was made from, as stored in state, checked: undefined when
 * none was stored; else the definition, or the first problem of a stored value that is not one
 * (a state written by an older cilo, or edited by hand), as `service.image: …`.
 */
export function parseStoredSharedDefinition(rec: Pick<SharedServiceState, 'definition'> | undefined): { ok: true; definition: SharedDefinition } | { ok: false; problem: string } | undefined {
  if (rec?.definition === undefined) return undefined;
  const r = v.safeParse(SharedDefinitionSchema, rec.definition);
  return r.success ? { ok: true, definition: r.output } : { ok: false, problem: firstProblem(r.issues) };
}

/**
 * The definition a shared service was made from, as stored in state; undefined when none was
 * stored or it is not one (see parseStoredSharedDefinition for which).
 */
export function storedSharedDefinition(rec: Pick<SharedServiceState, 'definition'> | undefined): SharedDefinition | undefined {
  const r = parseStoredSharedDefinition(rec);
  return r?.ok ? r.definition : undefined;
}
