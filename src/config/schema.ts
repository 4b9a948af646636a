import * as v from 'valibot';
import { ENGINE_KINDS, ISOLATION_KINDS } from '../domain/dataset-kinds.js';
import type { ProjectConfig } from '../domain/project-config.js';

const RenderRuleSchema = v.strictObject({
  file: v.string(),
  tokens: v.optional(v.boolean()),
  replace: v.optional(v.array(v.strictObject({ from: v.string(), to: v.string() }))),
});

const EnvConfigSchema = v.strictObject({
  copy_mode: v.optional(v.picklist(['all', 'none', 'allowlist'])),
  copy: v.optional(v.array(v.string())),
  ignore: v.optional(v.array(v.string())),
  init_hook: v.optional(v.string()),
  render: v.optional(v.array(RenderRuleSchema)),
});

const ServiceShareSchema = v.strictObject({
  share: v.optional(v.boolean()),
  isolate: v.optional(v.picklist(ISOLATION_KINDS)),
  engine: v.optional(v.picklist(ENGINE_KINDS)),
  seed: v.optional(v.union([v.string(), v.array(v.string())])),
  env: v.optional(v.array(v.string())),
  keep: v.optional(v.boolean()),
  connection_limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/**
 * `.cilo/config.yml`; unknown keys are refused (strict objects). Every key of the original
 * cilo's config is accepted (`build_tool`, `environments` included), so a project set up by it
 * works unchanged.
 */
export const ProjectConfigSchema = v.strictObject({
  project: v.optional(v.string()),
  build_tool: v.optional(v.string()),
  compose_files: v.optional(v.array(v.string())),
  env_files: v.optional(v.array(v.string())),
  dns_suffix: v.optional(v.string()),
  default_environment: v.optional(v.string()),
  default_ingress_service: v.optional(v.string()),
  hostnames: v.optional(v.array(v.string())),
  environments: v.optional(v.array(v.string())),
  copy_dot_dirs: v.optional(v.array(v.string())),
  ignore_dot_dirs: v.optional(v.array(v.string())),
  shared_grace_period: v.optional(v.union([v.number(), v.string()])),
  idle_pause: v.optional(v.union([v.number(), v.string()])),
  env: v.optional(EnvConfigSchema),
  services: v.optional(v.record(v.string(), ServiceShareSchema)),
  workspace: v.optional(v.picklist(['in-place', 'copy'])),
});

// The schema may not drift from the domain's shape.
const schemaMatchesDomain: [v.InferOutput<typeof ProjectConfigSchema>] extends [ProjectConfig] ? ([ProjectConfig] extends [v.InferOutput<typeof ProjectConfigSchema>] ? true : false) : false = true;
void schemaMatchesDomain;

const WORDS: Record<string, string> = {
  Array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  Object: 'a mapping',
};

/** Human words for what valibot expected: `Array` -> `a list`, `("a" | "b")` -> `one of a, b`. */
function expectedWords(expected: string): string {
  if (WORDS[expected]) return WORDS[expected];
  const parts = expected.replace(/^\(|\)$/g, '').split(' | ');
  if (parts.length > 1 && parts.every((p) => /^"[^"]*"$/.test(p))) return `one of ${parts.map((p) => p.slice(1, -1)).join(', ')}`;
  if (parts.length > 1) return parts.map((p) => WORDS[p] ?? p).join(' or ');
  return expected;
}

/** What keysAt reads of a valibot schema: its kind and the schemas nested in it. */
interface SchemaNode {
  readonly type: string;
  readonly wrapped?: SchemaNode;
  readonly item?: SchemaNode;
  readonly entries?: Readonly<Record<string, SchemaNode>>;
}

/** The keys allowed at the level of the config where an issue occurred. */
function keysAt(path: readonly unknown[]): string[] {
  let schema: SchemaNode | undefined = ProjectConfigSchema;
  const unwrap = (s: SchemaNode | undefined): SchemaNode | undefined => (s?.type === 'optional' ? s.wrapped : s);
  for (const k of path) {
    schema = unwrap(schema);
    if (schema?.type === 'array') schema = schema.item;
    else if (schema?.entries && typeof k === 'string') schema = schema.entries[k];
    schema = unwrap(schema);
    if (schema?.type === 'array' && typeof k !== 'string') schema = schema.item;
  }
  return schema?.entries ? Object.keys(schema.entries) : [];
}

/** Which key an issue is about, what was expected there, and the keys allowed beside it. */
export function describeIssue(issue: v.BaseIssue<unknown>): { key: string; expected: string; siblings: string[] } {
  const path = issue.path ?? [];
  const key = path.map((p) => String(p.key)).join('.');
  if (issue.kind === 'schema' && issue.type === 'strict_object' && issue.input !== undefined && issue.expected === 'never') {
    return { key, expected: 'no such key', siblings: keysAt(path.slice(0, -1).map((p) => p.key)) };
  }
  return { key, expected: expectedWords(issue.expected ?? issue.message), siblings: [] };
}
