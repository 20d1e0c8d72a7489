// resumeStream (goms/web): a DB.Watch followed through a real gateway that is
// closed and started again on the same port (real TCP, real nodes), a
// node-to-node stream whose server node goes away, and the reopen policy
// (which errors, how many attempts, backoff, abort while waiting) on plain
// iterables.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { DB, type WatchResponse } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { createDbService } from "../../examples/shared/db-service.js";
import { createGateway, type Gateway } from "../../src/gateway/index.js";
import { Code, createWebClient, GomsError, resumeStream } from "../../src/web/index.js";
import { NodeSet, until } from "../helpers.js";

const nodes = new NodeSet();
const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await nodes.closeAll();
});

const isCode = (code: Code) => (e: unknown) => GomsError.is(e) && e.code === code;

/** An iterable that yields `items`, then throws `error` (or ends when it is undefined). */
async function* scripted<T>(items: T[], error?: GomsError): AsyncGenerator<T> {
  for (const i of items) yield i;
  if (error !== undefined) throw error;
}

/** A server-stream method whose stream `script(request, signal)` decides. */
function scriptedMethod<Req, T>(script: (request: Req, signal: AbortSignal | undefined) => AsyncIterable<T>) {
  return (request: Req, o?: { signal?: AbortSignal | undefined }): AsyncIterable<T> => script(request, o?.signal);
}

describe("resumeStream", () => {
  it("follows DB.Watch through a gateway that is closed and started again on the same port", async () => {
    const db = createDbService();
    const server = await nodes.start({ identity: { name: "db" }, listen: { port: 0 } }, (n) => n.service(DB, db.impl));
    const gwNode = await nodes.start({ identity: { name: "gate" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
    const start = async (port: number): Promise<Gateway> => {
      const gw = await createGateway({ node: gwNode, listen: { port } }).start();
      gateways.push(gw);
      return gw;
    };
    const first = await start(0);
    const port = first.port;
    const web = createWebClient(DB, { baseUrl: `http://127.0.0.1:${port}` });
    const update = server.client(DB).update;
    await update({ key: "k", value: "v1" });

    const retries: Array<{ code: Code; attempt: number }> = [];
    const opened: Array<number | undefined> = [];
    const ac = new AbortController();
    const seen: WatchResponse[] = [];
    const watching = (async () => {
      const stream = resumeStream(
        web.watch,
        (last) => {
          opened.push(last?.version);
          return { key: "k" };
        },
        { signal: ac.signal, call: { timeoutMs: 30_000 }, initialDelayMs: 20, maxDelayMs: 200, onRetry: (r) => retries.push({ code: r.error.code, attempt: r.attempt }) },
      );
      for await (const c of stream) seen.push(c);
    })();
    await until(() => seen.length === 1, 5000, "the current value");
    await update({ key: "k", value: "v2" });
    await until(() => seen.length === 2, 5000, "the first change");

    // The gateway goes away: the open stream is cut, and reopening fails until it is back.
    gateways.splice(gateways.indexOf(first), 1);
    await first.close({ graceMs: 0 });
    await update({ key: "k", value: "v3" });
    await until(() => retries.length >= 2, 5000, "two failed attempts while the gateway is down");
    await start(port);
    await until(() => seen.some((c) => c.value === "v3"), 10_000, "the value set while the gateway was down");
    await update({ key: "k", value: "v4" });
    await until(() => seen.some((c) => c.value === "v4"), 5000, "a change after the reconnect");

    assert.deepEqual(
      seen.map((c) => c.value),
      ["v1", "v2", "v3", "v4"],
    );
    assert.ok(retries.every((r) => r.code === Code.Unavailable), JSON.stringify(retries));
    // Attempts in a row count up while the gateway is down, and the first reopen had the last message.
    assert.deepEqual(
      retries.slice(0, 2).map((r) => r.attempt),
      [1, 2],
    );
    assert.equal(opened[0], undefined);
    assert.equal(opened[1], 2);
    ac.abort();
    await assert.rejects(watching, isCode(Code.Canceled));
    await until(() => db.watchers() === 0, 5000, "the server's watcher to end");
  });

  it("between nodes: the caller's stream reopens on another node when its node goes away", async () => {
    const dbs = [createDbService(), createDbService()];
    const a = await nodes.start({ identity: { name: "db-a" }, listen: { port: 0 } }, (n) => n.service(DB, dbs[0]!.impl));
    const b = await nodes.start({ identity: { name: "db-b" }, listen: { port: 0 } }, (n) => n.service(DB, dbs[1]!.impl));
    const caller = await nodes.start({
      identity: { name: "caller" },
      peers: { addresses: [{ host: "127.0.0.1", port: a.port }, { host: "127.0.0.1", port: b.port }] },
    });
    const client = caller.client(DB);
    const seen: string[] = [];
    const retries: Code[] = [];
    const stream = resumeStream(client.watch, () => ({ key: "k" }), { initialDelayMs: 10, onRetry: (r) => retries.push(r.error.code) });
    const it = stream[Symbol.asyncIterator]();
    seen.push((await it.next()).value!.value);
    const served = dbs[0]!.watchers() === 1 ? a : b;
    const other = served === a ? b : a;
    await other.client(DB).update({ key: "k", value: "on-the-other" });
    await served.close({ graceMs: 0 });
    seen.push((await it.next()).value!.value);
    assert.deepEqual(seen, ["", "on-the-other"]);
    assert.ok(retries.length >= 1 && retries.every((c) => c === Code.Unavailable), JSON.stringify(retries));
    await it.return!();
  });

  it("a failure it does not retry is thrown at once; a clean end ends it", async () => {
    let opens = 0;
    const failing = resumeStream(
      scriptedMethod(() => {
        opens++;
        return scripted([1], new GomsError("no", Code.PermissionDenied));
      }),
      () => ({}),
    );
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const n of failing) got.push(n);
      })(),
      isCode(Code.PermissionDenied),
    );
    assert.deepEqual(got, [1]);
    assert.equal(opens, 1);
    const ending = resumeStream(
      scriptedMethod(() => scripted([1, 2])),
      () => ({}),
    );
    const all: number[] = [];
    for await (const n of ending) all.push(n);
    assert.deepEqual(all, [1, 2]);
  });

  it("maxAttempts failures in a row with no message between them throw the last; a message resets the count; `last` is the last message", async () => {
    const lasts: Array<number | undefined> = [];
    const delays: number[] = [];
    let opens = 0;
    // Opens 1 and 2 deliver a message each before failing; then every open fails at once.
    // The request is the last message (as a server that resumes after it would take it).
    const stream = resumeStream(
      scriptedMethod((after: number | undefined) => {
        lasts.push(after);
        opens++;
        return scripted(opens <= 2 ? [opens * 10] : [], new GomsError(`cut ${opens}`, Code.Unavailable));
      }),
      (last) => last,
      { maxAttempts: 3, initialDelayMs: 8, maxDelayMs: 20, onRetry: (r) => delays.push(r.delayMs) },
    );
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const n of stream) got.push(n);
      })(),
      (e: unknown) => GomsError.is(e) && e.code === Code.Unavailable && e.rawMessage === "cut 4",
    );
    assert.deepEqual(got, [10, 20]);
    // Open 2 failed after its message (failure 1 of a row), opens 3 and 4 at once (failures 2 and 3: the end).
    assert.deepEqual(lasts, [undefined, 10, 20, 20]);
    assert.equal(opens, 4);
    // After a message the wait starts again at initialDelayMs (4-8 ms with jitter), then doubles (8-16), capped at 20.
    assert.equal(delays.length, 3);
    for (const [i, d] of delays.entries()) {
      const ceiling = [8, 8, 16][i]!;
      assert.ok(d >= ceiling / 2 && d <= ceiling, `wait ${i}: ${d} ms`);
    }
  });

  it("an abort while waiting between attempts ends it with canceled at once", async () => {
    const ac = new AbortController();
    const stream = resumeStream(
      scriptedMethod(() => scripted<number>([], new GomsError("down", Code.Unavailable))),
      () => ({}),
      { signal: ac.signal, initialDelayMs: 60_000, maxDelayMs: 60_000, onRetry: () => setImmediate(() => ac.abort()) },
    );
    const t0 = Date.now();
    await assert.rejects(
      (async () => {
        for await (const _ of stream) assert.fail("no message");
      })(),
      isCode(Code.Canceled),
    );
    assert.ok(Date.now() - t0 < 10_000, "did not wait out the 60 s backoff");
  });

  it("leaving the loop aborts the signal the call was made with, and call options reach the call", async () => {
    let seen: AbortSignal | undefined;
    let timeoutMs: number | undefined;
    const method = (_req: object, o?: { signal?: AbortSignal | undefined; timeoutMs?: number }): AsyncIterable<number> => {
      seen = o?.signal;
      timeoutMs = o?.timeoutMs;
      return scripted([1, 2, 3]);
    };
    const stream = resumeStream(method, () => ({}), { call: { timeoutMs: 1234 } });
    for await (const n of stream) if (n === 1) break;
    assert.equal(seen?.aborted, true);
    assert.equal(timeoutMs, 1234);
  });

  it("bad options are invalid_argument when it is called", () => {
    const m = scriptedMethod(() => scripted<number>([]));
    const req = () => ({});
    assert.throws(() => resumeStream(m, req, { initialDelayMs: -1 }), isCode(Code.InvalidArgument));
    assert.throws(() => resumeStream(m, req, { maxDelayMs: Number.NaN }), isCode(Code.InvalidArgument));
    assert.throws(() => resumeStream(m, req, { initialDelayMs: 100, maxDelayMs: 10 }), isCode(Code.InvalidArgument));
    assert.throws(() => resumeStream(m, req, { maxAttempts: 0 }), isCode(Code.InvalidArgument));
  });
});
