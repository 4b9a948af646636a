import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built CLI to start a background process of cilo with (`dns serve`, `ui`): the running
 * one if that is cilo, else the bundle next to this code; undefined when there is none.
 */
export function cliEntry(): string | undefined {
  const candidates: string[] = [];
  const argv1 = process.argv[1];
  if (argv1) {
    try {
      const real = realpathSync(argv1);
      if (/(^|[\\/])cilo(\.js)?$/.test(real)) candidates.push(real);
    } catch {
      // not a file: not the CLI
    }
  }
  const here = dirname(fileURLToPath(import.meta.url));
  candidates.push(join(here, '..', 'cilo.js')); // bundled: dist/chunks/*.js
  candidates.push(join(here, 'cilo.js')); // bundled without chunks: dist/*.js
  candidates.push(join(here, '..', '..', 'dist', 'cilo.js')); // from source (src/<adapter>/*.ts)
  return candidates.find((p) => existsSync(p));
}
