import { CiloError } from '../errors.js';

export const NAME_RULE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const RULE_TEXT = 'lowercase letters, digits and "-", 1 to 63 characters, starting and ending with a letter or digit';

/** Lowercases, turns `/` and `_` into `-`, trims `-` (SPEC, Names). */
export function normalizeName(raw: string): string {
  return raw.trim().toLowerCase().replace(/[/_]/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * Validates an environment, project or host name. An environment name is taken exactly as
 * typed (SPEC, Names): one that does not match is refused, naming the rule and the valid form
 * it may have meant, never silently normalized (`destroy -- -FOO_` must not destroy `foo`).
 * Project and host names are normalized first (a project's comes from its directory's name).
 */
export function toValidName(raw: string, what: 'environment' | 'project' | 'host'): string {
  const name = what === 'environment' ? raw : normalizeName(raw);
  if (!NAME_RULE.test(name)) {
    const meant = normalizeName(raw);
    const guess = what === 'environment' && meant !== raw && NAME_RULE.test(meant) ? `; did you mean "${meant}"?` : '.';
    throw new CiloError('INVALID_NAME', `Invalid ${what} name "${raw}": a name must be ${RULE_TEXT}${guess}`, {
      hint: what === 'environment' ? (guess === '.' ? 'Choose a name such as "agent-1" or "feature-login".' : `Type it as "${meant}" if that is the environment you mean.`) : 'Pass --project with a name such as "my-app".',
      exitCode: 2,
    });
  }
  return name;
}

export function networkName(project: string, env: string): string {
  return `cilo_${project}_${env}`;
}

export function composeProjectName(project: string, env: string): string {
  return `cilo-${project}-${env}`;
}

export function sharedContainerName(project: string, service: string): string {
  return `cilo_shared_${project}_${service}`;
}

/** A DNS suffix as cilo stores and prints it: lower case, one leading dot (`Dev.Local.` -> `.dev.local`). */
export function normalizeSuffix(raw: string): string {
  return `.${suffixLabels(raw)}`;
}

/** The same suffix without its dots at either end (`.Dev.Local.` -> `dev.local`): the form DNS zone keys use. */
export function suffixLabels(raw: string): string {
  return raw.trim().toLowerCase().replace(/^\.+/, '').replace(/\.+$/, '');
}

/**
 * `.localhost` (RFC 6761): browsers and curl send its names to loopback themselves, so they need
 * no resolver set-up, and reach an environment only through the router on 127.0.0.1.
 */
export function isLoopbackSuffix(raw: string): boolean {
  const s = suffixLabels(raw);
  return s === 'localhost' || s.endsWith('.localhost');
}

const SUFFIX_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether a suffix (as normalizeSuffix returns it) is dot-separated DNS labels: `.test`, `.dev.local`. */
export function isValidSuffix(normalized: string): boolean {
  const labels = normalized.slice(1).split('.');
  return normalized.length > 1 && normalized.length <= 254 && labels.every((l) => SUFFIX_LABEL.test(l));
}

export const LABELS = {
  managed: 'cilo',
  project: 'cilo.project',
  env: 'cilo.env',
  shared: 'cilo.shared',
  service: 'cilo.service',
  /** Which CILO_HOME made it: doctor only calls its own resources orphans. */
  home: 'cilo.home',
} as const;

/** The labels compose puts on what it makes, by which cilo finds an environment's containers. */
export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';

export function envLabels(project: string, env: string, homeId: string): Record<string, string> {
  return { [LABELS.managed]: 'true', [LABELS.home]: homeId, [LABELS.project]: project, [LABELS.env]: env };
}

export function sharedLabels(project: string, service: string, homeId: string): Record<string, string> {
  return { [LABELS.managed]: 'true', [LABELS.home]: homeId, [LABELS.shared]: 'true', [LABELS.project]: project, [LABELS.service]: service };
}

/** The compose project of a cilo project's shared services. */
export function sharedComposeProject(project: string): string {
  return `cilo-shared-${project}`;
}

/** A shared container's aliases on a user environment's network. */
export function sharedAliases(service: string, env: { name: string; dns_suffix: string }): string[] {
  return [service, `${service}.${env.name}${env.dns_suffix}`];
}

/** Characters whose order below is the collator's root order (see compareNames). */
const PLAIN = /^[-._0-9a-z]*$/;

/** The root order of those characters is "_" < "-" < "." < digits < letters: code-unit order once "_" is " ". */
function orderKey(s: string): string {
  return s.includes('_') ? s.replaceAll('_', ' ') : s;
}

/**
 * `a.localeCompare(b)` for names, without its first-use cost: the first call loads ICU's
 * collator, ~10 ms, a tenth of `cilo list`. Names made of lowercase letters, digits, "_", "-"
 * and "." (all project and environment names, nearly all service names) are ordered here as
 * the collator's root order orders them; anything else goes to the collator itself. (Locales
 * with their own rules for these letters, such as Danish "aa", get the root order.)
 */
export function compareNames(a: string, b: string): number {
  if (!PLAIN.test(a) || !PLAIN.test(b)) return a.localeCompare(b);
  const x = orderKey(a);
  const y = orderKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when `b` is `a` with one character inserted, removed or replaced (`agent-2` / `agent-3`). */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  // After the first difference, the rests must match once the one edit is made.
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1);
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** Names among `known` one edit away from `name`, sorted: the ones a typo of theirs would give. */
export function namesOneEditAway(name: string, known: readonly string[]): string[] {
  return known.filter((k) => oneEditApart(name, k)).sort(compareNames);
}

/** True when `a` and `b` differ only in a trailing number (`agent-1`, `agent-2`, `agent-12`; `dev`, `dev2`): one series. */
export function sameSeries(a: string, b: string): boolean {
  const stem = (n: string): string => n.replace(/[0-9]+$/, '');
  return a !== b && stem(a) === stem(b) && (stem(a) !== a || stem(b) !== b);
}

/**
 * The names among `known` that `name` looks like a typo of: one edit away, but not another
 * member of its series (`agent-2` beside `agent-1` is the README's naming, not a typo of it).
 */
export function likelyTypos(name: string, known: readonly string[]): string[] {
  return namesOneEditAway(name, known).filter((k) => !sameSeries(name, k));
}
