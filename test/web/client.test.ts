// goms/web in Node against a real gateway and a real node over TCP: unary
// calls, server streams, errors with code and ret, abort and early exit
// reaching the server's handler, deadlines.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import WebSocket from "ws";
import { createWebClient, Code, GomsError, type WebSocketFactory } from "../../src/web/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, until } from "../helpers.js";
import { startWebEnv, type WebEnv } from "./env.js";
import { END_TRAILER } from "../streams/fixture.js";

const nodes = new NodeSet();
const gateways: WebEnv["gw"][] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await nodes.closeAll();
});

async function env(): Promise<WebEnv> {
  const e = await startWebEnv(nodes);
  gateways.push(e.gw);
  return e;
}

/** An onTrailer that records every call it gets. */
function trailers(): { calls: Array<[Record<string, string>, number]>; onTrailer: (t: Record<string, string>, ret: number) => void } {
  const calls: Array<[Record<string, string>, number]> = [];
  return { calls, onTrailer: (t, ret) => calls.push([t, ret]) };
}

const isCode = (code: Code, ret = 0) => (e: unknown) => GomsError.is(e) && e.code === code && e.ret === ret;

describe("goms/web in Node", () => {
  it("unary calls: the typed response, and errors with their code and ret", async () => {
    const { baseUrl } = await env();
    const db = createWebClient(DB, { baseUrl });
    await db.update({ key: "a", value: "1" });
    assert.equal((await db.query({ key: "a" })).value, "1");
    await assert.rejects(db.query({ key: "fail" }), isCode(Code.FailedPrecondition, 9));
    const other = createWebClient(DB, { baseUrl, prefix: "/nope" });
    await assert.rejects(other.query({ key: "a" }), isCode(Code.NotFound));
    await assert.rejects(createWebClient(DB, { baseUrl: "http://127.0.0.1:1" }).query({ key: "a" }), isCode(Code.Unavailable));
  });

  it("onTrailer on unary calls: the x-goms-ret of a success, the ret of an error", async () => {
    const { baseUrl } = await env();
    const db = createWebClient(DB, { baseUrl });
    const ok = trailers();
    await db.query({ key: "ret" }, { onTrailer: ok.onTrailer });
    assert.deepEqual(ok.calls, [[{}, 7]]);
    const failed = trailers();
    await assert.rejects(db.query({ key: "fail" }, { onTrailer: failed.onTrailer }), isCode(Code.FailedPrecondition, 9));
    assert.deepEqual(failed.calls, [[{}, 9]]);
  });

  it("onTrailer on server streams: once, with the end's ret and trailer, or the error's, or nothing when left early", async () => {
    const { baseUrl } = await env();
    const st = createWebClient(StreamTest, { baseUrl });
    const ok = trailers();
    let n = 0;
    for await (const _ of st.count({ count: 3, endRet: 5 }, { onTrailer: ok.onTrailer })) n++;
    assert.equal(n, 3);
    assert.deepEqual(ok.calls, [[END_TRAILER, 5]]);
    const failed = trailers();
    await assert.rejects(
      (async () => {
        for await (const _ of st.count({ count: 5, failAfter: 1, endRet: 5 }, { onTrailer: failed.onTrailer }));
      })(),
      (e: unknown) => isCode(Code.FailedPrecondition, 77)(e) && (e as GomsError).metadata["x-end"] === "done",
    );
    assert.deepEqual(failed.calls, [[END_TRAILER, 77]]);
    const left = trailers();
    for await (const _ of st.count({ count: 100_000_000, endRet: 5 }, { onTrailer: left.onTrailer })) break;
    assert.deepEqual(left.calls, [[{}, 0]]);
  });

  it("server streams: every message in order, then the end", async () => {
    const { baseUrl } = await env();
    const st = createWebClient(StreamTest, { baseUrl });
    const got: number[] = [];
    for await (const item of st.count({ count: 50, size: 3 })) {
      assert.equal(item.payload.length, 3);
      got.push(item.n);
    }
    assert.deepEqual(
      got,
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it("a server error ends the iteration with its GomsError (code, message, ret)", async () => {
    const { baseUrl } = await env();
    const st = createWebClient(StreamTest, { baseUrl });
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const item of st.count({ count: 10, failAfter: 3 })) got.push(item.n);
      })(),
      (e: unknown) => isCode(Code.FailedPrecondition, 77)(e) && (e as GomsError).rawMessage === "failed on purpose",
    );
    assert.deepEqual(got, [0, 1, 2]);
  });

  it("breaking out of for-await ends the server's generator", async () => {
    const { baseUrl, probe } = await env();
    const st = createWebClient(StreamTest, { baseUrl });
    let n = 0;
    for await (const _ of st.count({ count: 100_000_000 })) if (++n === 5) break;
    await until(() => probe.finallyRan === 1 && probe.aborted === 1, 5000, "server generator ended");
  });

  it("aborting the signal rejects with canceled and ends the server's generator", async () => {
    const { baseUrl, probe } = await env();
    const st = createWebClient(StreamTest, { baseUrl });
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of st.count({ count: 100_000_000 }, { signal: ac.signal })) if (++n === 5) ac.abort();
      })(),
      isCode(Code.Canceled),
    );
    assert.equal(n, 5, "no message after the abort");
    await until(() => probe.finallyRan === 1, 5000, "server generator ended");
  });

  it("timeoutMs covers the stream: deadline_exceeded", async () => {
    const { baseUrl, probe } = await env();
    const st = createWebClient(StreamTest, { baseUrl });
    await assert.rejects(
      (async () => {
        for await (const _ of st.count({ count: 100_000_000 }, { timeoutMs: 150 }));
      })(),
      isCode(Code.DeadlineExceeded),
    );
    await until(() => probe.finallyRan === 1, 5000, "server generator ended");
  });

  it("bidi and client streams over a WebSocket; leaving early ends the handler", async () => {
    const { baseUrl, probe } = await env();
    const st = createWebClient(StreamTest, { baseUrl, WebSocket: WebSocket as unknown as WebSocketFactory });
    async function* items(n: number) {
      for (let i = 1; i <= n; i++) yield { n: i };
    }
    const got: number[] = [];
    for await (const r of st.echo(items(20))) got.push(r.n);
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.deepEqual(await st.sum(items(4)), { $typeName: "goms.test.v1.SumResponse", total: 10n, messages: 4 });
    // Leaving a bidi stream early closes the socket: the handler ends.
    const endless = async function* () {
      for (let i = 0; ; i++) yield { n: i };
    };
    const before = probe.finallyRan;
    for await (const _ of st.echo(endless())) break;
    await until(() => probe.finallyRan === before + 1, 5000, "the bidi handler ended");
  });

  it("onTrailer on WebSocket streams: the ret of a clean close (no trailer over a WebSocket)", async () => {
    const { baseUrl } = await env();
    const st = createWebClient(StreamTest, { baseUrl, WebSocket: WebSocket as unknown as WebSocketFactory });
    async function* items() {
      yield { n: 1 };
      yield { n: 2, endRet: 6 };
    }
    const bidi = trailers();
    let n = 0;
    for await (const _ of st.echo(items(), { onTrailer: bidi.onTrailer })) n++;
    assert.equal(n, 2);
    assert.deepEqual(bidi.calls, [[{}, 6]]);
    const sum = trailers();
    assert.equal((await st.sum(items(), { onTrailer: sum.onTrailer })).total, 3n);
    assert.deepEqual(sum.calls, [[{}, 6]]);
  });
});

/** Runs `fn` with globalThis[name] undefined (a runtime without it), then puts it back. */
async function without(name: "fetch" | "WebSocket", fn: () => Promise<void>): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const had = Object.getOwnPropertyDescriptor(g, name);
  Object.defineProperty(g, name, { value: undefined, configurable: true, writable: true });
  try {
    await fn();
  } finally {
    if (had === undefined) delete g[name];
    else Object.defineProperty(g, name, had);
  }
}

describe("goms/web in a runtime without WebSocket or fetch", () => {
  async function* numbers() {
    yield { n: 1 };
  }
  const unimplemented = (what: string) => (e: unknown) => GomsError.is(e) && e.code === Code.Unimplemented && e.message.includes(`no ${what} in this runtime`);

  it("client and bidi streams fail like any failed call: a rejection, and onTrailer once with {} and 0", async () => {
    await without("WebSocket", async () => {
      const st = createWebClient(StreamTest, { baseUrl: "http://127.0.0.1:1" });
      const sum = trailers();
      // The method returns a promise that rejects (it does not throw).
      const p = st.sum(numbers(), { onTrailer: sum.onTrailer });
      await assert.rejects(p, unimplemented("WebSocket"));
      assert.deepEqual(sum.calls, [[{}, 0]]);
      const echo = trailers();
      const it = st.echo(numbers(), { onTrailer: echo.onTrailer })[Symbol.asyncIterator]();
      await assert.rejects(it.next(), unimplemented("WebSocket"));
      assert.deepEqual(echo.calls, [[{}, 0]]);
    });
  });

  it("unary calls and server streams without fetch: the same, not a throw from createWebClient", async () => {
    await without("fetch", async () => {
      const st = createWebClient(StreamTest, { baseUrl: "http://127.0.0.1:1" });
      const count = trailers();
      const it = st.count({ count: 1 }, { onTrailer: count.onTrailer })[Symbol.asyncIterator]();
      await assert.rejects(it.next(), unimplemented("fetch"));
      assert.deepEqual(count.calls, [[{}, 0]]);
      const db = createWebClient(DB, { baseUrl: "http://127.0.0.1:1" });
      const q = trailers();
      await assert.rejects(db.query({ key: "a" }, { onTrailer: q.onTrailer }), unimplemented("fetch"));
      assert.deepEqual(q.calls, [[{}, 0]]);
    });
  });
});
