import fc, { type IProperty } from "fast-check";

/**
 * One fuzz target: a fast-check property over one parser or protocol step.
 *
 * `check(runs)` asserts the property for `runs` cases and throws (with
 * fast-check's counterexample and seed) on the first failure. The test suite
 * calls it with a small count (test/fuzz/fuzz.test.ts); `npm run fuzz -- --runs
 * 1000000` calls it with a large one (scripts/fuzz.ts). A target must therefore
 * be cheap per case: feed bytes to the parser or state machine directly rather
 * than opening a socket per case, and start any shared server once per check.
 */
export interface FuzzTarget {
  /** Stable name, used by `npm run fuzz -- --target <name>`. */
  readonly name: string;
  check(runs: number): Promise<void> | void;
}

/**
 * Runs a synchronous property `runs` times in batches, letting the event loop
 * turn between batches. Targets that drive real connection objects need this:
 * what those schedule (a 'close' on the next tick that clears a linger timer,
 * a flush) only runs once the loop turns, so a million cases in one
 * synchronous fc.assert would pile all of it up in memory. Each batch gets its
 * own seed, derived from one base seed that a failure reports.
 */
export async function assertInBatches(property: () => IProperty<unknown[]>, runs: number, batch = 2000): Promise<void> {
  const base = Date.now() ^ (Math.random() * 0x7fffffff);
  for (let done = 0, i = 0; done < runs; done += batch, i++) {
    const seed = (base + i) | 0;
    try {
      fc.assert(property(), { numRuns: Math.min(batch, runs - done), seed });
    } catch (err) {
      throw new Error(`batch ${i} (seed ${seed}) failed`, { cause: err });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}
