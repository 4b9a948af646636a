/**
 * Debian's chromium driven by playwright-core (which downloads no browser), for the dashboard's
 * browser tests: where it is, where screenshots go, and playwright-core loaded, or the sentence
 * saying why the tests skip.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.CILO_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots for a person to look at. */
export const SHOTS = join(fileURLToPath(new URL('../../', import.meta.url)), 'test-output');

/** playwright-core, or why the browser tests skip (no chromium, or a program `also` says is missing). */
export async function loadPlaywright(also: { program: string; why: string }[] = []): Promise<typeof import('playwright-core') | string> {
  if (!existsSync(CHROMIUM)) return `no chromium at ${CHROMIUM} (Debian/Ubuntu: apt-get install chromium; or set CILO_TEST_CHROMIUM)`;
  const missing = also.find((p) => !existsSync(p.program));
  if (missing) return missing.why;
  try {
    return await import('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm ci installs it as a dev dependency)';
  }
}
