// Runs node:test over the chosen suites in one invocation, so CI reads one summary.
//   unit:        src/**/*.test.ts          (pure logic, no Docker)
//   integration: test/integration/*.test.ts (real engine and docker compose; needs dist/)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const suites = process.argv.slice(2);
const roots = { unit: 'src', integration: 'test/integration' };
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
  walk(roots[s]);
}
const filter = process.env.CILO_TEST_FILTER;
const chosen = filter ? files.filter((f) => f.includes(filter)) : files;
// A test that hangs (a child holding a pipe open, say) fails after 5 minutes instead of
// holding CI until its own limit.
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000'];
if (process.env.CILO_TEST_REPORTER) args.push(`--test-reporter=${process.env.CILO_TEST_REPORTER}`);
const r = spawnSync(process.execPath, [...args, ...chosen], { stdio: 'inherit' });
process.exit(r.status ?? 1);
