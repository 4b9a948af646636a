/**
 * The loopback router's test image (Debian's caddy package, built offline by caddy-image.sh),
 * cached by content as the database images are (fixture-images.ts): the image carries the hash
 * of its recipe, and only a missing image or a changed recipe builds it again. Tests set
 * CILO_ROUTER_IMAGE to it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RECIPE = join(dirname(fileURLToPath(import.meta.url)), 'caddy-image.sh');
export const CADDY_IMAGE = 'cilo-fixture/caddy:2';

function recipeHash(): string {
  return createHash('sha256').update(readFileSync(RECIPE)).digest('hex');
}

/** Builds the image unless it is current. Returns undefined when it is ready, else why it cannot be built here. */
export function ensureCaddyImage(): string | undefined {
  const hash = recipeHash();
  const r = spawnSync('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "cilo.fixture.recipe"}}', CADDY_IMAGE], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim() === hash) return undefined;
  if (!existsSync('/usr/bin/apt-get')) return 'the caddy test image is built from Debian\'s caddy package: it needs apt-get';
  const b = spawnSync('bash', [RECIPE, hash], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 10 * 60_000 });
  if (b.status !== 0) throw new Error(`${RECIPE} failed (exit ${b.status ?? b.signal}); see its output above.`);
  return undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const reason = ensureCaddyImage();
  if (reason) {
    console.error(`caddy image: ${reason}`);
    process.exit(1);
  }
}
