/**
 * node:test with a deadline on every test and hook: integration tests import `test`, `describe`,
 * `before`, `after`, `beforeEach` and `afterEach` from here (lint refuses them from node:test).
 *
 * Node 20's `--test-timeout` bounds a whole file when files run as subprocesses (the runner's
 * `--test`): at the limit the runner SIGTERMs the file, whose remaining tests are "cancelled"
 * and whose `after` hooks never run. Inside the file nothing is bounded. Here each test and each
 * hook gets its own `timeout` (TEST_TIMEOUT_MS unless it passes one): one that hangs fails
 * ("test timed out after N ms"), the file goes on, and the hooks after it tear down.
 */
import * as nodeTest from 'node:test';

function fromEnv(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Each test's and hook's own deadline: generous, since a machine under load is slow, not wrong
 * (under a load of ~23 on 2 cores the slowest test of shared, environments and cli-surface took
 * 57 s). CILO_TEST_TIMEOUT_MS overrides it.
 */
export const TEST_TIMEOUT_MS = fromEnv('CILO_TEST_TIMEOUT_MS', 10 * 60_000);

type Options = nodeTest.TestOptions;
type Fn = (...args: never[]) => unknown;

/** node:test's overloads, (fn), (name, fn), (options, fn), (name, options, fn), with the deadline added to the options. */
function bounded(args: unknown[]): [string | undefined, Options, Fn | undefined] {
  let name: string | undefined;
  let options: Options = {};
  let fn: Fn | undefined;
  for (const a of args) {
    if (typeof a === 'string') name = a;
    else if (typeof a === 'function') fn = a as Fn;
    else if (a !== null && typeof a === 'object') options = a as Options;
  }
  return [name, { timeout: TEST_TIMEOUT_MS, ...options }, fn];
}

type TestLike = (name?: string, options?: Options, fn?: Fn) => Promise<void>;

function wrap(original: TestLike): TestLike {
  return (...args: unknown[]) => original(...bounded(args));
}

const nodeTestFn = nodeTest.test as unknown as TestLike & Record<'skip' | 'todo' | 'only', TestLike>;
export const test = Object.assign(wrap(nodeTestFn), {
  skip: wrap(nodeTestFn.skip),
  todo: wrap(nodeTestFn.todo),
  only: wrap(nodeTestFn.only),
}) as unknown as typeof nodeTest.test;
export const it = test;

/** Suites are not bounded as a whole (their tests and hooks are); re-exported for one import line. */
export const describe = nodeTest.describe;

type Hook = typeof nodeTest.before;
const hook =
  (original: Hook): Hook =>
  (fn, options) =>
    original(fn, { timeout: TEST_TIMEOUT_MS, ...options });

export const before = hook(nodeTest.before);
export const after = hook(nodeTest.after);
export const beforeEach = hook(nodeTest.beforeEach);
export const afterEach = hook(nodeTest.afterEach);
