// Workspace copy benchmark: copyProject against `cp -a --reflink=auto` on a 10,000-file tree.
//
//   node bench/copy.mjs [--runs N]      (or: node --import tsx bench/copy.mjs)
//
// Builds the tree in a temp dir next to where workspaces would live (os.tmpdir(), or
// CILO_BENCH_DIR to measure another filesystem, e.g. an XFS or btrfs mount that can reflink),
// times each tool `runs` times (alternating, after one untimed warm-up each, so both read a
// warm page cache, and after a `sync` so neither pays for the other's writeback), prints a
// markdown table and removes everything it made.
// `benchCopy({ runs })` returns the rows for a bench runner; `buildTree(root)` makes the tree.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const FILES = 10_000;
const DIRS = 200;
const SYMLINKS = 100;

/** Mostly small source-like files, some medium, a few large: roughly a real repository. */
function sizeOf(i) {
  if (i % 1000 === 0) return 1024 * 1024; // 10 x 1 MiB
  if (i % 50 === 0) return 64 * 1024; // ~190 x 64 KiB
  return 200 + ((i * 7919) % 8000); // the rest: 200 B .. 8 KB
}

/** Writes the benchmark tree (9,900 files, 100 symlinks, 200 dirs, ~61 MiB) and returns its bytes. */
export function buildTree(root) {
  const chunk = Buffer.alloc(1024 * 1024, 'cilo benchmark data\n');
  // 200 directories, up to three levels deep, so the walk has real depth.
  const dirs = [];
  for (let d = 0; d < DIRS; d++) {
    const rel = d < 10 ? `pkg${d}` : d < 60 ? `pkg${d % 10}/mod${d}` : `pkg${d % 10}/mod${10 + (d % 50)}/part${d}`;
    dirs.push(rel);
    mkdirSync(join(root, rel), { recursive: true });
  }
  let bytes = 0;
  for (let i = 0; i < FILES - SYMLINKS; i++) {
    const p = join(root, dirs[i % DIRS], `file${i}.ts`);
    const size = sizeOf(i);
    writeFileSync(p, chunk.subarray(0, size));
    if (i % 97 === 0) chmodSync(p, 0o755);
    bytes += size;
  }
  for (let i = 0; i < SYMLINKS; i++) symlinkSync(`../file${i}.ts`, join(root, dirs[(i + 1) % DIRS], `link${i}`));
  return bytes;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * CPU time (user + system, ms) of this process plus its waited-for children. On a shared or
 * small VM wall time swings 2x with the neighbours' load; CPU time says what the copy costs.
 * Linux only (/proc); elsewhere undefined.
 */
function cpuMs() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * Runs the benchmark and returns one row per tool plus the ratio of medians
 * (copyProject / cp; below 1 means copyProject is faster).
 */
export async function benchCopy({ runs = 5, dir = process.env.CILO_BENCH_DIR ?? tmpdir(), log = () => {} } = {}) {
  const { copyProject } = await tsImport('../src/workspace/copy.ts', import.meta.url);
  const work = mkdtempSync(join(dir, 'cilo-bench-copy-'));
  try {
    const src = join(work, 'src');
    mkdirSync(src);
    const bytes = buildTree(src);
    log(`tree: ${FILES} entries (${SYMLINKS} symlinks), ${DIRS} dirs, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${work}`);

    let n = 0;
    let strategy = 'copy';
    const tools = {
      'cp -a --reflink=auto': async (dst) => {
        const r = spawnSync('cp', ['-a', '--reflink=auto', src, dst]);
        if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
      },
      copyProject: async (dst) => {
        const r = await copyProject(src, dst);
        if (r.files + r.symlinks !== FILES) throw new Error(`copyProject copied ${r.files + r.symlinks} entries, expected ${FILES}`);
        strategy = r.strategy;
      },
    };
    const times = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
    const cpu = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
    for (let run = -1; run < runs; run++) {
      for (const [name, fn] of Object.entries(tools)) {
        const dst = join(work, `dst${n++}`);
        // Flush the previous run's dirty pages first, or its writeback lands in this run's time.
        spawnSync('sync');
        const c0 = cpuMs();
        const t0 = process.hrtime.bigint();
        await fn(dst);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const c1 = cpuMs();
        if (run >= 0) {
          // run -1 is the warm-up
          times[name].push(ms);
          if (c0 !== undefined && c1 !== undefined) cpu[name].push(c1 - c0);
        }
        rmSync(dst, { recursive: true, force: true });
      }
    }
    const rows = Object.entries(times).map(([tool, ms]) => ({
      tool,
      runs: ms.length,
      medianMs: median(ms),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      cpuMedianMs: cpu[tool].length > 0 ? median(cpu[tool]) : undefined,
    }));
    const ratio = rows[1].medianMs / rows[0].medianMs;
    return { rows, ratio, strategy, files: FILES, bytes };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatTable({ rows, ratio, strategy }) {
  const f = (ms) => `${ms.toFixed(0)} ms`;
  return [
    '| tool | runs | median | min | max | CPU (median) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.tool} | ${r.runs} | ${f(r.medianMs)} | ${f(r.minMs)} | ${f(r.maxMs)} | ${r.cpuMedianMs === undefined ? '-' : f(r.cpuMedianMs)} |`),
    '',
    `copyProject / cp median ratio: ${ratio.toFixed(2)} (strategy: ${strategy})`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 5;
  const result = await benchCopy({ runs, log: (l) => console.error(l) });
  console.log(formatTable(result));
}
