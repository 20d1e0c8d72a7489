import { CaseSkipped, runCase, title, type Case } from "./case.js";
import { controlCases } from "./cases-control.js";
import { frameCases } from "./cases-frames.js";
import { helloCases } from "./cases-hello.js";
import { nodeServiceCases } from "./cases-node-service.js";
import { payloadCases } from "./cases-payload.js";
import { requestCases } from "./cases-request.js";
import { streamCases } from "./cases-streams.js";
import { timingCases } from "./cases-timing.js";
import type { Target } from "./raw-conn.js";

/** Every conformance case, in docs/protocol.md order. */
export const allCases: readonly Case[] = [...frameCases, ...helloCases, ...requestCases, ...payloadCases, ...controlCases, ...timingCases, ...nodeServiceCases, ...streamCases];

/** Longest a case may take (the slowest waits ~24 s for an idle close). */
export const CASE_TIMEOUT_MS = 45_000;

export interface SuiteOptions {
  target: Target;
  /** §4.13 bound configured on the node. Default 64. */
  maxPendingHandshakes?: number;
  /** Run only cases whose title contains this. */
  filter?: string;
  /** Cases run at once, besides the slow ones. Default 8. */
  concurrency?: number;
}

export interface CaseResult {
  case: Case;
  title: string;
  /** Undefined when it passed or was skipped. */
  error: Error | undefined;
  /** The case does not apply to the node's setup; `skipReason` says why. */
  skipped: boolean;
  skipReason?: string;
  ms: number;
}

/** The cases that apply to `target`: token cases only when a token is given. */
export function applicable(cases: readonly Case[], target: Target): { run: Case[]; skip: Case[] } {
  const run: Case[] = [];
  const skip: Case[] = [];
  for (const c of cases) (c.needs === "token" && target.token === undefined ? skip : run).push(c);
  return { run, skip };
}

/** Runs one case with the suite's time bound; resolves with its result, never rejects. */
export async function runOne(c: Case, o: SuiteOptions): Promise<CaseResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`case did not finish within ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
  });
  let error: Error | undefined;
  try {
    await Promise.race([runCase(c, o.target, o.maxPendingHandshakes ?? 64), timeout]);
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err));
  } finally {
    clearTimeout(timer);
  }
  if (error instanceof CaseSkipped) return { case: c, title: title(c), error: undefined, skipped: true, skipReason: error.message, ms: Date.now() - started };
  return { case: c, title: title(c), error, skipped: false, ms: Date.now() - started };
}

/**
 * Runs the suite: slow cases all at once (they mostly wait on the node's
 * timers), the others `concurrency` at a time alongside, exclusive cases
 * alone at the end. Calls `report` as each case finishes.
 */
export async function runSuite(o: SuiteOptions, report: (r: CaseResult) => void): Promise<CaseResult[]> {
  const selected = allCases.filter((c) => o.filter === undefined || title(c).includes(o.filter));
  const { run, skip } = applicable(selected, o.target);
  const results: CaseResult[] = skip.map((c) => ({ case: c, title: title(c), error: undefined, skipped: true, skipReason: "needs --token", ms: 0 }));
  for (const r of results) report(r);
  const done = (r: CaseResult): void => {
    results.push(r);
    report(r);
  };
  const slow = run.filter((c) => c.kind === "slow").map((c) => runOne(c, o).then(done));
  const queue = run.filter((c) => c.kind === undefined);
  const workers = Array.from({ length: o.concurrency ?? 8 }, async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) done(await runOne(c, o));
  });
  await Promise.all([...slow, ...workers]);
  for (const c of run.filter((x) => x.kind === "exclusive")) done(await runOne(c, o));
  return results;
}
