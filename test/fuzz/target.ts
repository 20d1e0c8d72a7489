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
