/**
 * Waiting in tests: poll a condition until it holds, with a generous deadline, and fail naming
 * what was awaited. Tests never sleep a fixed time and never assert how long something took:
 * durations are the benchmark's business (bench/), which reports and never fails.
 */

export interface WaitOptions {
  /** What is awaited, for the failure message: "web.e1.test to resolve to 10.0.0.2". */
  what: string;
  /** How long to keep trying; generous, since a loaded CI machine is slow, not wrong. */
  deadlineMs?: number;
  intervalMs?: number;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Calls `condition` until it returns a truthy value, which it returns. A falsy value or a throw
 * (an assertion, a timed-out query) means "not yet"; at the deadline the last of them is in the
 * error, so a failed `assert.deepEqual` inside the condition shows what was seen last.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, { what, deadlineMs = 60_000, intervalMs = 20 }: WaitOptions): Promise<Truthy<T>> {
  const end = Date.now() + deadlineMs;
  let last: string;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
      last = `the condition was ${JSON.stringify(value)}`;
    } catch (e) {
      last = `last attempt: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (Date.now() >= end) throw new Error(`Gave up after ${deadlineMs} ms waiting for ${what}; ${last}`);
    await pause(intervalMs);
  }
}
