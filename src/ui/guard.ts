/**
 * Who may talk to `cilo ui`'s server on a shared machine. Pure checks over request headers:
 *
 * - Host must name the loopback address and the server's port, so a page on another site
 *   whose DNS name was rebound to 127.0.0.1 is refused (DNS rebinding).
 * - A POST's Origin must be this very server, so another site (or another local server's
 *   page) cannot make a browser press a button (CSRF). No CORS header is ever sent.
 * - Data and actions need the session cookie, which only a page that read the random token
 *   from the printed URL's fragment gets; the fragment never reaches a server or a log.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const LOOPBACK = '127.0.0.1';

/** A random secret, URL- and cookie-safe. */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Cookies ignore ports: one name per port keeps two servers (two homes) apart. */
export function cookieName(port: number): string {
  return `cilo_ui_${port}`;
}

function allowedHosts(port: number): string[] {
  return [`${LOOPBACK}:${port}`, `localhost:${port}`];
}

export function hostAllowed(host: string | undefined, port: number): boolean {
  return host !== undefined && allowedHosts(port).includes(host.toLowerCase());
}

/** A POST must come from a page of this server: its Origin is `http://` + the (allowed) Host. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  return origin !== undefined && allowedHosts(port).some((h) => origin.toLowerCase() === `http://${h}`);
}

/** Compares secrets in constant time. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The session cookie: never readable by scripts, never sent by another site's requests. */
export function sessionCookie(port: number, session: string): string {
  return `${cookieName(port)}=${session}; HttpOnly; SameSite=Strict; Path=/`;
}

/** Headers of every answer: nothing may be framed, sniffed, cached, or loaded from elsewhere. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
