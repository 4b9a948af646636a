/**
 * Connection values shown on a screen (the dashboard): secrets are masked before they leave
 * cilo, so a screenshot or a shared screen never shows a password. Pure.
 */
export const MASK = '••••••';

const SECRET_NAME = /pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|auth/i;

/** The value as it may be shown: whole when its name says secret, else with a URL's password hidden. */
export function maskConnectionValue(name: string, value: string): { value: string; masked: boolean } {
  if (SECRET_NAME.test(name) && value !== '') return { value: MASK, masked: true };
  // scheme://user:password@host — keep the user, hide the password.
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):([^@/?#]*)@/i.exec(value);
  if (m?.[1] !== undefined && m[2] !== '') return { value: `${m[1]}:${MASK}@${value.slice(m[0].length)}`, masked: true };
  return { value, masked: false };
}
