// Admission of served calls over real TCP: calls over the adaptive
// concurrency limit, or past a short turn, wait in a bounded queue and the
// excess is refused with the retry-elsewhere hint; the caller's node retries a
// refusal on another node; calls whose deadline is too short for their method
// are refused before the handler runs.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { GradientLimiter, DEFAULT_CONCURRENCY_LIMIT } from "../../src/internal/admission/limiter.js";
import { RETRY_HINT_KEY } from "../../src/internal/admission/admission.js";
import type { GomsNode } from "../../src/rpc/index.js";
import { NodeSet, sleep, until } from "../helpers.js";

const HOST = "127.0.0.1";

/** A handler that waits until `open()`; counts the calls that reached it. */
function gate(): { handler: (r: { a: number; b: number }) => Promise<{ sum: number }>; open(): void; calls: number } {
  const waiting: Array<() => void> = [];
  const g = {
    calls: 0,
    handler: async (r: { a: number; b: number }) => {
      g.calls++;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return { sum: r.a + r.b };
    },
    open: () => {
      for (const w of waiting.splice(0)) w();
    },
  };
  return g;
}

async function client(nodes: NodeSet, ...servers: GomsNode[]): Promise<GomsNode> {
  const c = await nodes.start({ identity: { name: `cli-${servers.map((s) => s.name).join("-")}` }, peers: { addresses: servers.map((s) => ({ host: HOST, port: s.port })) } });
  await until(() => c.stats().peersReady === servers.length, 5000, "peers ready");
  return c;
}

const fixedLimit = (n: number) => ({ initialLimit: n, minLimit: n, maxLimit: n });

/** Nothing waits in the admission queue before the node measured a run time: one window (10 calls, 100 ms) teaches it. */
async function learnRunTime(srv: GomsNode, add: { add(r: { a: number; b: number }): Promise<unknown> }): Promise<void> {
  for (let i = 0; i < 11; i++) await add.add({ a: 0, b: 0 });
  await sleep(120);
  await add.add({ a: 0, b: 0 });
  assert.ok(srv.stats().admission.baselineMs > 0, "run time measured");
}

describe("GradientLimiter", () => {
  const o = { ...DEFAULT_CONCURRENCY_LIMIT, initialLimit: 100, windowMs: 100 };
  /**
   * Feeds exactly one window of 20 calls of the given latency and run time,
   * `inflight` in use: the window closes on its last call. (The first window
   * starts at its first call, the others at the previous window's end.)
   */
  function window(l: GradientLimiter, t: { now: number; first?: boolean }, latency: number, service: number, inflight: number): void {
    const n = t.first === false ? 20 : 21;
    t.first = false;
    for (let i = 0; i < n; i++) l.sample(latency, service, inflight, (t.now += 100 / 19.5));
  }

  it("shrinks after two slow windows in a row, from what was in use; grows back only while in use", () => {
    const l = new GradientLimiter(o);
    const t = { now: 0 };
    window(l, t, 1, 1, 80); // learns a 1 ms run time; fine and in use: grows
    const grown = l.limit;
    assert.ok(grown > 100, `grew: ${grown}`);
    window(l, t, 40, 1, grown); // one slow window: a stall, not yet a queue
    assert.equal(l.limit, grown);
    window(l, t, 1.5, 1, grown); // fine again
    window(l, t, 40, 1, grown);
    window(l, t, 40, 1, grown); // calls waited 40x their run time, twice in a row
    const shrunk = l.limit;
    assert.ok(shrunk < grown, `shrank: ${shrunk}`);
    assert.ok(shrunk >= Math.floor(grown * 0.2), "at most to a fifth per window");
    window(l, t, 40, 1, 10); // still slow with 10 in flight: down from 10, not from the limit
    assert.ok(l.limit <= 10, `from what was in use: ${l.limit}`);
    const low = l.limit;
    window(l, t, 1.5, 1, 0); // fine, but nothing in flight: no growth
    assert.equal(l.limit, low);
    window(l, t, 1.5, 1, low); // fine and in use
    assert.ok(l.limit > low, "grew back");
    assert.equal(Math.round(l.baseline * 10) / 10, 1);
  });

  it("calls that used a small share of their deadline never count as slow", () => {
    const l = new GradientLimiter(o);
    let now = 0;
    // 40 ms waits against 30 s deadlines (0.13%), for many windows: the limit stays.
    for (let i = 0; i < 200; i++) l.sample(40, 1, 100, (now += 100 / 19.5), 30_000);
    const kept = l.limit;
    assert.ok(kept >= 100, `did not shrink: ${kept}`);
    // The same waits against 200 ms deadlines (20%): it shrinks.
    for (let i = 0; i < 200; i++) l.sample(40, 1, 100, (now += 100 / 19.5), 200);
    assert.ok(l.limit < Math.min(kept, 100), `shrank: ${l.limit}`);
  });

  it("never leaves [minLimit, maxLimit]", () => {
    const l = new GradientLimiter({ ...o, minLimit: 5, maxLimit: 120 });
    const t = { now: 0 };
    for (let i = 0; i < 30; i++) window(l, t, 500, 1, 1000);
    assert.equal(l.limit, 5);
    for (let i = 0; i < 100; i++) window(l, t, 1, 1, 1000);
    assert.equal(l.limit, 120);
  });
});

describe("admission over TCP", () => {
  const nodes = new NodeSet();
  afterEach(() => nodes.closeAll());

  it("over the limit with no queue: refused at once with resource_exhausted and the retry-elsewhere hint; no handler runs", async () => {
    const g = gate();
    const srv = await nodes.start({ identity: { name: "a" }, listen: { port: 0 }, limits: { adaptiveConcurrency: { ...fixedLimit(2), queueMs: 0 } } }, (n) => n.service(AddServer, { add: g.handler }));
    const c = await client(nodes, srv);
    const add = c.detailedClient(AddServer);
    const held = [add.add({ a: 1, b: 1 }), add.add({ a: 2, b: 2 })];
    await until(() => g.calls === 2, 5000, "two calls running");
    const err = await add.add({ a: 3, b: 3 }).then(
      () => assert.fail("the third call must be refused"),
      (e: unknown) => GomsError.from(e),
    );
    assert.equal(err.code, Code.ResourceExhausted);
    assert.equal(err.metadata[RETRY_HINT_KEY], "elsewhere");
    assert.equal(g.calls, 2, "the refused call reached no handler");
    const a = srv.stats().admission;
    assert.equal(a.refusedLimit, 1);
    assert.equal(a.limit, 2);
    assert.equal(a.inflight, 2);
    g.open();
    const ok = await Promise.all(held);
    assert.deepEqual(ok.map((r) => r.message.sum), [2, 4]);
    await until(() => srv.stats().admission.inflight === 0, 2000, "released");
    assert.equal(srv.stats().admission.admitted, 2);
  });

  it("over the limit: calls wait in the admission queue, first in first out; one canceled or out of time while waiting never runs; beyond the queue, refused", async () => {
    const seen: number[] = [];
    const waiting: Array<() => void> = [];
    const open = (): void => {
      for (const w of waiting.splice(0)) w();
    };
    let warm = true;
    // Limit 3 (and so at most 3 waiting: maxLimit bounds the queue); handlers of microseconds, once measured, let 3 wait within queueMs.
    const srv = await nodes.start({ identity: { name: "q" }, listen: { port: 0 }, limits: { adaptiveConcurrency: fixedLimit(3) } }, (n) =>
      n.service(AddServer, {
        add: async (r) => {
          if (warm) return { sum: 0 };
          seen.push(r.a);
          await new Promise<void>((resolve) => waiting.push(resolve));
          return { sum: r.a + r.b };
        },
      }),
    );
    const c = await client(nodes, srv);
    const add = c.client(AddServer);
    await learnRunTime(srv, add);
    warm = false;
    const admittedBefore = srv.stats().admission.admitted;
    const running = [1, 2, 3].map((a) => add.add({ a, b: 0 }));
    await until(() => seen.length === 3, 5000, "three calls running");
    const ac = new AbortController();
    const queued = [
      add.add({ a: 4, b: 0 }),
      add.add({ a: 5, b: 0 }, { timeoutMs: 150, retry: false }),
      add.add({ a: 6, b: 0 }, { signal: ac.signal }),
      add.add({ a: 7, b: 0 }),
    ].map((p) => p.then((r) => r.sum, (e: unknown) => GomsError.from(e)));
    await until(() => srv.stats().admission.queued === 3, 5000, "three calls waiting");
    const refused = await queued[3]!;
    assert.ok(refused instanceof GomsError, "the fourth waiting call does not fit the queue");
    assert.equal(refused.code, Code.ResourceExhausted);
    assert.equal(refused.metadata[RETRY_HINT_KEY], "elsewhere");
    ac.abort();
    const expired = await queued[1]!;
    assert.ok(expired instanceof GomsError && expired.code === Code.DeadlineExceeded, String(expired));
    const canceled = await queued[2]!;
    assert.ok(canceled instanceof GomsError && canceled.code === Code.Canceled, String(canceled));
    assert.deepEqual(seen, [1, 2, 3], "nothing waiting ran while the limit was full");
    open();
    assert.deepEqual((await Promise.all(running)).map((r) => r.sum), [1, 2, 3]);
    await until(() => seen.length === 4, 5000, "the first waiting call runs");
    open();
    assert.equal(await queued[0], 4);
    // Call 4 ran when room came; 5 (out of time) and 6 (canceled) never did.
    await sleep(100);
    assert.deepEqual(seen, [1, 2, 3, 4]);
    const a = srv.stats().admission;
    assert.equal(a.queued, 0);
    assert.equal(a.refusedLimit, 1);
    assert.equal(a.admitted - admittedBefore, 4);
    assert.ok(a.queueMsTotal > 0, "the wait of call 4 counts as queue time");
  });

  it("a burst cut by short turns waits when its callers allow seconds (deadlineShare), and is refused beyond queueMs when they allow 150 ms", async () => {
    const srv = await nodes.start({ identity: { name: "burst" }, listen: { port: 0 } }, (n) =>
      n.service(AddServer, {
        add: (r) => {
          const end = performance.now() + 1;
          while (performance.now() < end);
          return { sum: r.a + r.b };
        },
      }),
    );
    const c = await client(nodes, srv);
    const add = c.client(AddServer);
    await learnRunTime(srv, add);
    const burst = (timeoutMs: number) =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          add.add({ a: i, b: 0 }, { timeoutMs, retry: false }).then(
            () => "ok",
            (e: unknown) => {
              const g = GomsError.from(e);
              return g.code === Code.ResourceExhausted && g.metadata[RETRY_HINT_KEY] === "elsewhere" ? "refused" : g.message;
            },
          ),
        ),
      );
    // 40 calls of 1 ms in one read: a turn runs about 2 ms of them and the rest
    // wait. 2% of 30 s is 600 ms, room for all of them.
    const long = await burst(30_000);
    assert.deepEqual(long.filter((r) => r !== "ok"), [], "a burst with seconds to spare is served whole");
    assert.ok(srv.stats().admission.queueMsTotal > 0, "part of it waited in the queue");
    // 2% of 150 ms is 3 ms: the queue holds queueMs (5 ms) of calls, the rest are refused with the hint.
    const short = await burst(150);
    assert.deepEqual(short.filter((r) => r !== "ok" && r !== "refused"), []);
    assert.ok(short.includes("refused") && short.includes("ok"), `some served, the rest refused: ${short.filter((r) => r === "ok").length} ok`);
  });

  it("a refused call is retried on another node within the budget, and not with retry: false", async () => {
    const g = gate();
    const busy = await nodes.start({ identity: { name: "busy" }, listen: { port: 0 }, limits: { adaptiveConcurrency: fixedLimit(1) } }, (n) => n.service(AddServer, { add: g.handler }));
    const idle = await nodes.start({ identity: { name: "idle" }, listen: { port: 0 } }, (n) => n.service(AddServer, { add: (r) => ({ sum: r.a + r.b }) }));
    const c = await client(nodes, busy, idle);
    const add = c.client(AddServer);
    const held = add.add({ a: 0, b: 0 }, { node: "busy" });
    await until(() => g.calls === 1, 5000, "busy is full");
    // Round-robin sends about half of these to "busy" first: each is refused there and served by "idle".
    const sums = await Promise.all(Array.from({ length: 10 }, (_, i) => add.add({ a: i, b: 1 })));
    assert.deepEqual(sums.map((s) => s.sum), Array.from({ length: 10 }, (_, i) => i + 1));
    const refused = busy.stats().admission.refusedLimit;
    assert.ok(refused >= 1, `some calls went to busy first (${refused})`);
    assert.equal(c.stats().retries, refused, "each refusal was retried once");
    assert.equal(g.calls, 1);
    // Without retries the refusal reaches the caller.
    const errors: GomsError[] = [];
    for (let i = 0; i < 4; i++) await add.add({ a: 1, b: 1 }, { retry: false }).catch((e: unknown) => errors.push(GomsError.from(e)));
    assert.ok(errors.length >= 1, "round-robin reached busy");
    for (const e of errors) assert.equal(e.code, Code.ResourceExhausted);
    g.open();
    await held;
  });

  it("deadline-aware: a call whose deadline is shorter than the method's typical run is refused before its handler", async () => {
    let calls = 0;
    let remaining: number | undefined;
    const srv = await nodes.start({ identity: { name: "slow" }, listen: { port: 0 }, limits: { adaptiveConcurrency: false } }, (n) =>
      n.service(AddServer, {
        add: async (r, ctx) => {
          calls++;
          remaining = ctx.timeRemaining();
          assert.ok(ctx.deadline !== undefined);
          await sleep(40);
          return { sum: r.a + r.b };
        },
      }),
    );
    const c = await client(nodes, srv);
    const add = c.client(AddServer);
    // Teach the node the method's typical run time (it needs 20 runs before it trusts it).
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 8 }, () => add.add({ a: 1, b: 1 }, { timeoutMs: 10_000 })));
    assert.ok(remaining !== undefined && remaining > 0 && remaining <= 10_000, `ctx.timeRemaining() = ${remaining}`);
    const before = calls;
    const err = await add.add({ a: 1, b: 1 }, { timeoutMs: 5, retry: false }).then(
      () => assert.fail("must be refused"),
      (e: unknown) => GomsError.from(e),
    );
    assert.equal(err.code, Code.DeadlineExceeded);
    // The client's own 5 ms timer may win the race; the server's count says whether it refused.
    await until(() => srv.stats().admission.refusedDeadline === 1, 2000, "the server refused it");
    assert.equal(calls, before, "no handler ran for it");
    // With deadline admission off the same call reaches the handler.
    const off = await nodes.start({ identity: { name: "off" }, listen: { port: 0 }, limits: { adaptiveConcurrency: false, deadlineAdmission: false } }, (n) =>
      n.service(AddServer, {
        add: async (r) => {
          calls++;
          await sleep(40);
          return { sum: r.a + r.b };
        },
      }),
    );
    const c2 = await client(nodes, off);
    const add2 = c2.client(AddServer);
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 8 }, () => add2.add({ a: 1, b: 1 }, { timeoutMs: 10_000 })));
    const n = calls;
    await add2.add({ a: 1, b: 1 }, { timeoutMs: 5, retry: false }).catch(() => undefined);
    await until(() => calls === n + 1, 2000, "the handler ran");
    assert.equal(off.stats().admission.refusedDeadline, 0);
  });

  it("a flood of CPU-bound calls: a turn runs calls for turnMs, later ones wait for the next turn, the excess beyond the queue is refused with the hint, nothing else fails", async () => {
    // Handler calls per turn of the event loop: a setImmediate set by the
    // first call of a turn fires after it (the queue drains in the check
    // phase too, and an immediate set there fires in the next loop turn).
    let inTurn = 0;
    let maxPerTurn = 0;
    let counting = false;
    const srv = await nodes.start({ identity: { name: "cpu" }, listen: { port: 0 }, limits: { adaptiveConcurrency: { initialLimit: 200, turnMs: 2 } } }, (n) =>
      n.service(AddServer, {
        add: (r) => {
          if (inTurn++ === 0) setImmediate(() => ((maxPerTurn = counting ? Math.max(maxPerTurn, inTurn) : 0), (inTurn = 0)));
          const end = performance.now() + 2;
          while (performance.now() < end);
          return { sum: r.a + r.b };
        },
      }),
    );
    const c = await client(nodes, srv);
    const add = c.client(AddServer);
    const other: string[] = [];
    let ok = 0;
    let refused = 0;
    const stop = Date.now() + 20_000;
    // Bursts of 300 arrive together. Until a run time was measured, nothing
    // waits or is refused (the first reads run whole); after that a turn runs
    // one or two 2 ms calls, about two wait (queueMs 5), and the rest are refused.
    for (let round = 0; round < 5 && Date.now() < stop; round++) {
      counting = round > 0;
      await Promise.all(
        Array.from({ length: 300 }, () =>
          add.add({ a: 1, b: 2 }, { timeoutMs: 2000 }).then(
            () => void ok++,
            (e: unknown) => {
              const g = GomsError.from(e);
              if (g.code === Code.ResourceExhausted && g.metadata[RETRY_HINT_KEY] === "elsewhere") refused++;
              else other.push(g.message);
            },
          ),
        ),
      );
    }
    const a = srv.stats().admission;
    assert.deepEqual(other, []);
    assert.ok(maxPerTurn >= 1 && maxPerTurn <= 2, `calls run in one turn after the first burst: ${maxPerTurn}`);
    assert.ok(refused > 0 && a.refusedLimit === refused, `refused ${refused}, server says ${a.refusedLimit}`);
    assert.ok(ok > 0);
    assert.ok(a.queueMsTotal > 0);
  });
});
