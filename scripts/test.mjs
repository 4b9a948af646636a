// Runs node:test over the chosen suites in one invocation, so CI reads one summary.
//   unit:        src/**/*.test.ts, test/unit/*.test.ts (pure logic, no Docker; the lint rules)
//   integration: test/integration/*.test.ts (real engine and docker compose; needs dist/)
//
// Integration tests bound each test and hook themselves (test/support/bounded-test.ts, 10 min,
// CILO_TEST_TIMEOUT_MS); the runner's --test-timeout, which Node 20 applies to a whole file, is
// only a backstop for a file that hangs outside its tests. Before and after the integration
// suite, test/support/sweep.ts removes what test homes of ended test processes left (a file
// killed or cancelled before its `after` hooks ran): their processes, containers, networks and
// volumes. The database fixture images are built first, once, outside any file's clock.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const suites = process.argv.slice(2);
const roots = { unit: ['src', 'test/unit'], integration: ['test/integration'] };
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
}
for (const s of suites) {
  if (!(s in roots)) {
    console.error(`test: unknown suite "${s}"; use one of ${Object.keys(roots).join(', ')}.`);
    process.exit(2);
  }
  for (const dir of roots[s]) walk(dir);
}
const filter = process.env.CILO_TEST_FILTER;
// A substring of the path, or several separated by commas.
const chosen = filter ? files.filter((f) => filter.split(',').some((part) => part !== '' && f.includes(part))) : files;
const integration = chosen.some((f) => roots.integration.some((dir) => f.startsWith(dir)));

const tsx = (script) => spawnSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' }).status;
const sweep = () => {
  if (integration && tsx('test/support/sweep.ts') !== 0) console.error('test: the sweep of ended test homes failed (see above); going on.');
};

sweep();
if (chosen.some((f) => readFileSync(f, 'utf8').includes('fixture-images'))) {
  // Prints why when it cannot build them; the tests that need them then skip, saying so.
  tsx('test/support/fixture-images.ts');
}

const perTest = Number(process.env.CILO_TEST_TIMEOUT_MS) > 0 ? Number(process.env.CILO_TEST_TIMEOUT_MS) : 10 * 60_000;
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${2 * perTest}`];
if (process.env.CILO_TEST_REPORTER) args.push(`--test-reporter=${process.env.CILO_TEST_REPORTER}`);
const started = Date.now();
const child = spawn(process.execPath, [...args, ...chosen], { stdio: 'inherit' });
// Ctrl-C reaches the whole process group: the test processes clean up and exit, then the sweep
// below runs. A SIGTERM to this script alone is passed on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  const s = Math.round((Date.now() - started) / 1000);
  console.error(`test: ${chosen.length} files in ${Math.floor(s / 60)} min ${s % 60} s`);
  sweep();
  process.exit(code ?? (signal ? 1 : 0));
});
