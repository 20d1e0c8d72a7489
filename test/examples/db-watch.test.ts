// The examples' DB.Watch (examples/shared/db-service.ts) between two nodes
// over real TCP: current value first, then each change; a watcher that stops
// reading is cut off with resource_exhausted once its queue is full (the
// node holds at most the stream's window plus the queue); the watcher limit;
// leaving ends the server side.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { createDbService } from "../../examples/shared/db-service.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { NodeSet, until } from "../helpers.js";

describe("examples' DB.Watch", () => {
  const nodes = new NodeSet();
  after(() => nodes.closeAll());

  async function pair(o: Parameters<typeof createDbService>[0] = {}) {
    const db = createDbService(o);
    const server = await nodes.start({ identity: { name: "db" }, listen: { port: 0 } }, (n) => n.service(DB, db.impl));
    const client = await nodes.start({ identity: { name: "watcher" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
    return { db, update: server.client(DB).update, watch: client.client(DB).watch };
  }

  it("sends the current value, then each change of that key only; leaving ends the server's watcher", async () => {
    const { db, update, watch } = await pair();
    await update({ key: "k", value: "v0" });
    const it = watch({ key: "k" })[Symbol.asyncIterator]();
    assert.deepEqual(pick((await it.next()).value), { key: "k", value: "v0", version: 1 });
    await update({ key: "other", value: "x" });
    await update({ key: "k", value: "v1" });
    assert.deepEqual(pick((await it.next()).value), { key: "k", value: "v1", version: 2 });
    assert.equal(db.watchers(), 1);
    await it.return!();
    await until(() => db.watchers() === 0, 5000, "the watcher to end on the server");
  });

  it("a watcher that stops reading ends with resource_exhausted, after the changes that fit", async () => {
    const limit = 8;
    const { db, update, watch } = await pair({ queueLimit: limit });
    const it = watch({ key: "slow" })[Symbol.asyncIterator]();
    await it.next();
    // 32 KiB values: the stream's 256 KiB window holds a few, the queue `limit` more, then the watcher is cut off.
    const big = "x".repeat(32 * 1024);
    const updates = 200;
    for (let i = 0; i < updates; i++) await update({ key: "slow", value: `${i}:${big}` });
    let got = 0;
    let err: unknown;
    try {
      for (let r = await it.next(); r.done !== true; r = await it.next()) got++;
    } catch (e) {
      err = e;
    }
    assert.ok(GomsError.is(err), `a GomsError, got ${String(err)}`);
    assert.equal(err.code, Code.ResourceExhausted);
    assert.match(err.rawMessage, /fell behind by more than 8 changes; watch again/);
    // What reached the watcher was bounded by the window and the queue, far below the 200 updates.
    assert.ok(got >= limit && got < updates / 2, `got ${got} changes`);
    await until(() => db.watchers() === 0, 5000, "the watcher to end on the server");
  });

  it("past maxWatchers, Watch answers resource_exhausted", async () => {
    const { db, watch } = await pair({ maxWatchers: 2 });
    const a = watch({ key: "a" })[Symbol.asyncIterator]();
    const b = watch({ key: "b" })[Symbol.asyncIterator]();
    await a.next();
    await b.next();
    await assert.rejects(watch({ key: "c" })[Symbol.asyncIterator]().next(), (e: unknown) => GomsError.is(e) && e.code === Code.ResourceExhausted);
    await a.return!();
    await until(() => db.watchers() === 1, 5000, "a's watcher to end");
    const c = watch({ key: "c" })[Symbol.asyncIterator]();
    assert.deepEqual(pick((await c.next()).value), { key: "c", value: "", version: 0 });
    await c.return!();
    await b.return!();
  });
});

function pick(m: { key: string; value: string; version: number } | undefined): { key: string; value: string; version: number } | undefined {
  return m === undefined ? undefined : { key: m.key, value: m.value, version: m.version };
}
