import * as v from 'valibot';

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

/** `.cilo/config.yml`; unknown keys are refused (strict objects). */
export const ProjectConfigSchema = v.strictObject({
  project: v.optional(v.string()),
  compose_files: v.optional(v.array(v.string())),
  env_files: v.optional(v.array(v.string())),
  dns_suffix: v.optional(v.string()),
  default_environment: v.optional(v.string()),
  default_ingress_service: v.optional(v.string()),
  hostnames: v.optional(v.array(v.string())),
  copy_dot_dirs: v.optional(v.array(v.string())),
  ignore_dot_dirs: v.optional(v.array(v.string())),
  shared_grace_period: v.optional(v.union([v.number(), v.string()])),
  env: v.optional(EnvConfigSchema),
});

export type ProjectConfig = v.InferOutput<typeof ProjectConfigSchema>;

/** Human words for what a schema issue expected. */
export function describeIssue(issue: v.BaseIssue<unknown>): { key: string; expected: string } {
  const key = issue.path?.map((p) => String(p.key)).join('.') ?? '';
  if (issue.kind === 'schema' && issue.type === 'strict_object' && issue.input !== undefined && issue.expected === 'never') {
    return { key, expected: 'no such key' };
  }
  return { key, expected: issue.expected ?? issue.message };
}
