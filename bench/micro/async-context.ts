/**
 * What AsyncLocalStorage costs a stream handler, per message, on this Node:
 * `node --import tsx bench/micro/async-context.ts [messages] [rounds]`.
 *
 * A server-streaming handler is usually an `async *` generator, which costs
 * promises per message (its next(), its yield's await, and once promise
 * hooks are on, a throwaway promise per await). On Node 20 and 22,
 * AsyncLocalStorage runs JS init/before/after hooks for every promise in the
 * process once any store was entered (goms enters one per handler, for
 * `calls.inheritContext`); Node 24's AsyncContextFrame has no such hooks.
 * This drains a generator of `messages` messages the way goms's stream
 * driver does (a `then` per message), with and without a store entered,
 * for an `async *` and a `function*` generator, and prints ns per message.
 * Each variant runs in a fresh child process: the hooks, once on, stay on.
 * No goms code runs: it isolates the language and runtime cost
 * (docs/benchmarks.md, "Streams", and docs/streams.md, "Speed").
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

type Variant = "async" | "async+als" | "sync" | "sync+als";
const VARIANTS: readonly Variant[] = ["async", "async+als", "sync", "sync+als"];

async function* asyncGen(n: number): AsyncGenerator<{ n: number }> {
  const m = { n: 0 };
  for (let i = 0; i < n; i++) yield m;
}

function* syncGen(n: number): Generator<{ n: number }> {
  const m = { n: 0 };
  for (let i = 0; i < n; i++) yield m;
}

/** Drains an async iterator with one `then` per message, as driveStream's pumpAsync does. */
function drainAsync(it: AsyncIterator<unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = 0;
    const onNext = (r: IteratorResult<unknown>): void => {
      if (r.done === true) return resolve(count);
      count++;
      it.next().then(onNext, reject);
    };
    it.next().then(onNext, reject);
  });
}

/** Drains a sync iterator in one go, as pumpSync does while the window takes every message. */
function drainSync(it: Iterator<unknown>): number {
  let count = 0;
  while (it.next().done !== true) count++;
  return count;
}

/** Runs one variant `rounds` times in this process; returns the best ns per message. */
async function measure(v: Variant, messages: number, rounds: number): Promise<number> {
  const als = new AsyncLocalStorage<object>();
  const once = (): Promise<number> => (v.startsWith("async") ? drainAsync(asyncGen(messages)) : Promise.resolve(drainSync(syncGen(messages))));
  const run = (): Promise<number> => (v.endsWith("+als") ? als.run({}, once) : once());
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const got = await run();
    const ns = Number(process.hrtime.bigint() - t0) / messages;
    if (got !== messages) throw new Error(`${v}: drained ${got} of ${messages}`);
    best = Math.min(best, ns);
  }
  return best;
}

const [arg1, arg2, arg3] = process.argv.slice(2);
if (arg1 === "--child") {
  const ns = await measure(arg2 as Variant, Number(arg3), Number(process.env["ROUNDS"] ?? "3"));
  process.stdout.write(`${ns}\n`);
} else {
  const messages = Number(arg1 ?? "2000000");
  const rounds = Number(arg2 ?? "3");
  if (!Number.isInteger(messages) || messages <= 0 || !Number.isInteger(rounds) || rounds <= 0) {
    process.stderr.write("usage: node --import tsx bench/micro/async-context.ts [messages] [rounds]\n");
    process.exit(2);
  }
  const self = fileURLToPath(import.meta.url);
  const ns = new Map<Variant, number>();
  for (const v of VARIANTS) {
    const out = execFileSync(process.execPath, ["--import", "tsx", self, "--child", v, String(messages)], { env: { ...process.env, ROUNDS: String(rounds) }, encoding: "utf8" });
    ns.set(v, Number(out.trim()));
  }
  process.stdout.write(`node ${process.version}, ${messages} messages, best of ${rounds} rounds per variant, each variant in its own process\n\n`);
  process.stdout.write("| handler | ns/message, no store | ns/message, a store entered | added by AsyncLocalStorage |\n|---|--:|--:|--:|\n");
  for (const kind of ["async", "sync"] as const) {
    const plain = ns.get(kind)!;
    const als = ns.get(`${kind}+als`)!;
    const label = kind === "async" ? "`async *` (a then per message)" : "`function*` (drained in one go)";
    process.stdout.write(`| ${label} | ${plain.toFixed(0)} | ${als.toFixed(0)} | ${(als - plain).toFixed(0)} |\n`);
  }
}
