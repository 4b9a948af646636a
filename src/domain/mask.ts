/**
 * Secrets hidden before a value leaves cilo (the manifest, `status`, the dashboard, stored
 * rewrites), so a log, a screenshot or an agent's transcript never shows a password. The one
 * home of that rule. Pure.
 */
export const MASK = '***';

const SECRET_NAME = /pass(word|wd)?|secret|token|api[_-]?key|private|credential|auth/i;
/** `scheme://user:password@host...` (also `jdbc:scheme://`): the password part. */
const URL_PASSWORD = /^((?:jdbc:)?[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/?#\s]*)@/i;
/** `?password=...` and the like in a URL's query. */
const QUERY_PASSWORD = /([?&](?:password|pass|pwd)=)[^&#]*/gi;

/** A value with the passwords inside it (URL userinfo, query parameters) masked. */
export function maskSecret(value: string): string {
  return value.replace(URL_PASSWORD, (_, head: string, pw: string) => (pw === '' ? `${head}@` : `${head}${MASK}@`)).replace(QUERY_PASSWORD, `$1${MASK}`);
}

/** A named value as it may be shown: whole when its name says secret, else with the passwords inside it masked. */
export function maskValue(name: string, value: string): string {
  if (SECRET_NAME.test(name) && value !== '') return MASK;
  return maskSecret(value);
}

/** The same, saying whether anything was masked (the dashboard marks masked values). */
export function maskConnectionValue(name: string, value: string): { value: string; masked: boolean } {
  const shown = maskValue(name, value);
  return { value: shown, masked: shown !== value };
}
