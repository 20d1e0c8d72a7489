import { after, before, describe, it } from "node:test";
import { Procs, freePort } from "../procs.js";
import { title } from "./case.js";
import { CASE_TIMEOUT_MS, allCases, applicable, runOne } from "./suite.js";
import type { Target } from "./raw-conn.js";

/**
 * Declares the conformance suite as node:test tests, one per case, against a
 * node started as a child process on a free port: `args` are passed to
 * `node --import tsx` with the port appended, `ready` matches its stdout once
 * it listens. Slow cases start first; at most 12 cases run at once (well
 * below the node's 64 pending handshakes, §4.13); exclusive cases run last.
 */
export function conformanceTests(name: string, args: (port: number) => string[], ready: RegExp, token?: string): void {
  const procs = new Procs();
  const target: Target = { host: "127.0.0.1", port: 0, ...(token === undefined ? {} : { token }) };
  before(async () => {
    target.port = await freePort();
    await procs.start(args(target.port), ready);
  });
  after(() => procs.killAll());

  const { run } = applicable(allCases, target);
  const ordered = [...run.filter((c) => c.kind === "slow"), ...run.filter((c) => c.kind === undefined)];
  const test = (c: (typeof run)[number]): void => {
    it(title(c), { timeout: CASE_TIMEOUT_MS + 5000 }, async () => {
      const r = await runOne(c, { target });
      if (r.error) throw r.error;
    });
  };
  describe(`${name}: conformance`, { concurrency: 12 }, () => ordered.forEach(test));
  describe(`${name}: conformance, cases that need the node to themselves`, () => run.filter((c) => c.kind === "exclusive").forEach(test));
}
