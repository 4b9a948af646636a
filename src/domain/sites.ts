/**
 * Which engine a record belongs to: this machine's (no `host`) or a remote host's. Records of
 * environments, shared services and datasets carry `host?: string`; these compare them, so no
 * module spells the rule (`host ?? ''`) again.
 */

/** Anything recorded on an engine. */
export interface OnSite {
  host?: string | undefined;
}

/** A key for maps by engine: '' for this machine, the host's name otherwise. */
export function siteKey(x: OnSite): string {
  return x.host ?? '';
}

/** The record named by a key of `siteKey`. */
function siteOfKey(key: string): OnSite {
  return key === '' ? {} : { host: key };
}

export function sameSite(a: OnSite, b: OnSite): boolean {
  return siteKey(a) === siteKey(b);
}

/** `this machine` or `host <name>`, for messages. */
export function siteLabel(x: OnSite): string {
  return x.host ? `host ${x.host}` : 'this machine';
}

/** The distinct engines of some records, this machine first, then hosts by name. */
export function sitesOf(records: Iterable<OnSite>): OnSite[] {
  const keys = new Set<string>();
  for (const r of records) keys.add(siteKey(r));
  return [...keys].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))).map(siteOfKey);
}
