/**
 * The database fixture images (postgres, mariadb, redis from Debian's packages), built offline by
 * fixture-images.sh and cached by content: each image carries a label with the hash of the
 * recipe, and only a missing image or a changed recipe makes the script run again.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RECIPE = join(dirname(fileURLToPath(import.meta.url)), 'fixture-images.sh');
export const DB_IMAGES = { postgres: 'cilo-fixture/postgres:15', mariadb: 'cilo-fixture/mariadb:10', redis: 'cilo-fixture/redis:7' } as const;

function recipeHash(): string {
  return createHash('sha256').update(readFileSync(RECIPE)).digest('hex');
}

function imageRecipe(image: string): string | undefined {
  const r = spawnSync('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "cilo.fixture.recipe"}}', image], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Builds the images unless they are current. Returns undefined when they are ready, else the
 * reason they cannot be built here (the caller skips with it).
 */
export function ensureDbImages(): string | undefined {
  const hash = recipeHash();
  if (Object.values(DB_IMAGES).every((i) => imageRecipe(i) === hash)) return undefined;
  const hasDebootstrap = spawnSync('sh', ['-c', 'command -v debootstrap'], { stdio: 'ignore' }).status === 0;
  if (!hasDebootstrap && (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get'))) {
    return 'the database fixture images need debootstrap (or root with apt-get to install it)';
  }
  if (process.getuid?.() !== 0) return 'building the database fixture images needs root (debootstrap)';
  process.stderr.write('Building the database fixture images (debootstrap: a few minutes, once)...\n');
  const r = spawnSync('bash', [RECIPE, hash], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`${RECIPE} failed (exit ${r.status ?? r.signal}); see its output above.`);
  return undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const reason = ensureDbImages();
  if (reason) {
    console.error(`fixture images: ${reason}`);
    process.exit(1);
  }
}
