// Benchmark of admission by memory budget (issue #26), run by bench/run.mjs with its helpers (`tools`):
//
//   admission   8 `cilo up` of new environments started at once against a budget that fits 5
//               (each environment: two busybox services with mem_limit 32m, so its estimate is
//               64 MB; budget 5 × 64 MB + 32 MB). Reported: how many started and how many were
//               refused (code CAPACITY), and the peak of what cilo counted against the budget
//               (sum of admitted estimates of running environments plus the reservations of
//               `up`s still starting, read from state.json every 50 ms during the run) against
//               the budget; and the wall time of the 8 ups against 5 parallel ups with no budget
//               (what the 5 that start cost without admission; runs alternate which goes first).
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MB = 1024 * 1024;
const N = 8;
const FITS = 5;
const EACH = 64 * MB;

function project(image) {
  const svc = (name) => `  ${name}:\n    image: ${image}\n    init: true\n    command: ["sleep", "86400"]\n    mem_limit: 32m\n`;
  return `services:\n${svc('web')}${svc('api')}`;
}

/** What cilo counts against the budget now, from its state file. */
function counted(home) {
  try {
    const s = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8'));
    const envs = Object.values(s.environments ?? {}).filter((e) => ['running', 'paused', 'starting'].includes(e.status)).reduce((n, e) => n + (e.memory_admitted ?? 0), 0);
    const reserved = Object.values(s.memory_reservations ?? {}).reduce((n, r) => n + r.bytes, 0);
    return envs + reserved;
  } catch {
    return 0; // mid-rename: the next read has it
  }
}

export async function benchAdmission(tools, { runs }) {
  const { makeHome, withCleanup, row, log, fmtMs, image } = tools;
  const h = await makeHome('admit');
  const dir = join(h.dir, 'shop');
  const budget = FITS * EACH + 32 * MB;
  return withCleanup(h.cleanup, async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'compose.yaml'), project(image));
    await h.init();
    await h.cilo(['init', '--memory-budget', `${budget / MB}m`]);
    const started = [];
    const refused = [];
    const peaks = [];
    const walls = [];
    const unbudgeted = [];
    const plain = async (r) => {
      await h.cilo(['init', '--memory-budget', 'none']);
      const t0 = performance.now();
      await Promise.all(Array.from({ length: FITS }, (_, i) => h.cilo(['up', `b${r + 1}-${i + 1}`, '--from', dir, '--project', h.project, '--json'])));
      unbudgeted.push(performance.now() - t0);
      await h.cilo(['destroy', '--all', '--force']);
      await h.cilo(['init', '--memory-budget', `${budget / MB}m`]);
    };
    for (let r = 0; r < runs; r++) {
      if (r % 2 === 1) await plain(r);
      let peak = 0;
      const poll = setInterval(() => (peak = Math.max(peak, counted(h.home))), 50);
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: N }, (_, i) => h.ciloTry(['up', `a${r + 1}-${i + 1}`, '--from', dir, '--project', h.project, '--json'])));
      walls.push(performance.now() - t0);
      clearInterval(poll);
      peak = Math.max(peak, counted(h.home));
      const ok = results.filter((x) => x.code === 0).length;
      const capacity = results.filter((x) => x.code !== 0 && x.stdout.includes('"CAPACITY"')).length;
      const other = results.find((x) => x.code !== 0 && !x.stdout.includes('"CAPACITY"'));
      if (other) throw new Error(`an up failed for another reason than capacity: ${(other.stdout || other.stderr).trim().split('\n').slice(-3).join(' | ')}`);
      started.push(ok);
      refused.push(capacity);
      peaks.push(peak);
      log(`admission run ${r + 1}: ${ok} started, ${capacity} refused, peak counted ${(peak / MB).toFixed(0)} MB of ${(budget / MB).toFixed(0)} MB, ${fmtMs(walls.at(-1))}`);
      await h.cilo(['destroy', '--all', '--force']);
      if (r % 2 === 0) await plain(r);
    }
    const fmtMb = (b) => (Number.isFinite(b) ? `${(b / MB).toFixed(0)} MB` : 'n/a');
    return [
      row({ id: 'admission-started', measure: `admission: environments started of ${N} parallel \`up\`s, budget fits ${FITS}`, ours: started, fmt: String, target: { equals: FITS } }),
      row({ id: 'admission-refused', measure: `admission: refused with CAPACITY of the ${N}`, ours: refused, fmt: String, target: { equals: N - FITS } }),
      row({ id: 'admission-peak', measure: `admission: peak counted against the ${fmtMb(budget)} budget`, ours: peaks, fmt: fmtMb, target: { max: budget + 1 } }),
      row({ id: 'admission-wall', measure: `admission: wall time of the ${N} parallel \`up\`s (${FITS} start)`, ours: walls, baseLabel: `${FITS} parallel \`up\`s, no budget`, base: unbudgeted, target: { none: true } }),
    ];
  });
}
