/**
 * The check of what `docker compose config --format json` prints before cilo trusts it: the
 * fields cilo reads must have the types domain/compose-model.ts gives them; everything else
 * passes through untouched (compose owns those semantics).
 */
import * as v from 'valibot';
import type { ComposeModel, ComposeService } from '../domain/compose-model.js';

const Port = v.looseObject({ target: v.optional(v.number()), published: v.optional(v.union([v.string(), v.number()])), protocol: v.optional(v.string()) });

export const ComposeServiceSchema = v.looseObject({
  image: v.optional(v.string()),
  build: v.optional(v.unknown()),
  ports: v.optional(v.array(Port)),
  expose: v.optional(v.array(v.union([v.string(), v.number()]))),
  networks: v.optional(v.record(v.string(), v.nullable(v.looseObject({ aliases: v.optional(v.array(v.string())), ipv4_address: v.optional(v.string()) })))),
  network_mode: v.optional(v.string()),
  labels: v.optional(v.record(v.string(), v.string())),
  depends_on: v.optional(v.record(v.string(), v.looseObject({ condition: v.optional(v.string()), required: v.optional(v.boolean()), restart: v.optional(v.boolean()) }))),
  container_name: v.optional(v.string()),
  healthcheck: v.optional(v.looseObject({ disable: v.optional(v.boolean()), test: v.optional(v.unknown()) })),
  restart: v.optional(v.string()),
  profiles: v.optional(v.array(v.string())),
});

export const ComposeModelSchema = v.looseObject({
  name: v.optional(v.string()),
  services: v.optional(v.record(v.string(), ComposeServiceSchema), {}),
  networks: v.optional(v.record(v.string(), v.looseObject({}))),
  volumes: v.optional(v.record(v.string(), v.nullable(v.looseObject({})))),
});

// What the schemas let through is what the domain types promise.
const outputsFit: [v.InferOutput<typeof ComposeModelSchema>] extends [ComposeModel] ? ([v.InferOutput<typeof ComposeServiceSchema>] extends [ComposeService] ? true : false) : false = true;
void outputsFit;

/** The first problem of a value that does not fit, as `services.web.ports.0.target: …`. */
export function firstProblem(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
  return `${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'}`;
}
