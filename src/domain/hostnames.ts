/**
 * Custom hostnames of an environment's ingress (`cilo hostnames`). A hostname is stored relative
 * to the environment (`admin`, `docs.v2`) and served as `<hostname>.<env><suffix>`. Pure.
 */
import { CiloError } from '../errors.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const RULE = 'dot-separated labels of lowercase letters, digits and "-" (1 to 63 characters each, not starting or ending with "-")';

/**
 * Lowercases, drops a trailing dot and a trailing `.<env><suffix>`, and checks DNS label rules.
 * Throws a usage error naming the rule.
 */
export function normalizeHostname(raw: string, env: string, suffix: string): string {
  let h = raw.trim().toLowerCase().replace(/\.$/, '');
  const base = `${env}${suffix}`.toLowerCase();
  if (h.endsWith(`.${base}`)) h = h.slice(0, -(base.length + 1));
  const labels = h.split('.');
  const fqdnLength = h.length + 1 + base.length;
  if (h === '' || h === base || labels.some((l) => !LABEL.test(l)) || fqdnLength > 253) {
    throw new CiloError('USAGE', `Invalid hostname "${raw}": a hostname must be ${RULE}, at most 253 characters with ".${base}".`, {
      hint: 'Use names such as "admin" or "api.v2"; they are served as <name>.' + base + '.',
      exitCode: 2,
    });
  }
  return h;
}

/** Hostnames from a file: one per line, `#` starts a comment, blank lines ignored. */
export function parseHostnameList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
}

/** The effective list: project config and labels first, then the custom ones, without duplicates. */
export function effectiveHostnames(fromProject: string[], custom: string[] | undefined): string[] {
  return [...new Set([...fromProject, ...(custom ?? [])])];
}
