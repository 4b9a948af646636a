/**
 * Temporary directories for unit tests, each removed when its test file ends (node:test's
 * `after` at the top level), so a unit run leaves nothing in $TMPDIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const made: string[] = [];

// Registered when a test file imports this module, before its tests run: on the file's root.
after(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
