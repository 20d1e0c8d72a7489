// The same KvBackend checks against the embedded backend and the watch client.
import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import type { KvBackend } from "../../src/kv/backend.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { embeddedKv } from "../../src/registry/index.js";
import { createStore, resumeRevisionOf, type StoreOptions, type WatchStore } from "../../src/watch/index.js";
import { until } from "../helpers.js";
import { brief, dec, enc, Fixture, take } from "./helpers.js";

const fx = new Fixture();
const stores: WatchStore[] = [];
afterEach(async () => {
  await fx.close();
  for (const s of stores.splice(0)) s.close();
});
after(() => fx.close());

const isCode = (code: Code) => (e: unknown) => GomsError.is(e) && e.code === code;

type Make = (o: Omit<StoreOptions, "dir" | "fsync">) => Promise<{ kv: KvBackend; store: WatchStore }>;

const backends: [string, Make][] = [
  [
    "embedded",
    (o) => {
      const store = createStore(o);
      stores.push(store);
      return Promise.resolve({ kv: embeddedKv(store), store });
    },
  ],
  [
    "watch",
    async (o) => {
      const s = await fx.server({ store: o });
      return { kv: fx.client(s.url), store: s.store };
    },
  ],
];

for (const [name, make] of backends) {
  describe(`KvBackend: ${name}`, () => {
    it("kind, put/get/range/delete", async () => {
      const { kv } = await make({});
      assert.equal(kv.kind, name);
      assert.equal(await kv.put("a", enc("1")), 1);
      assert.equal(await kv.put("b", enc("2")), 2);
      assert.deepEqual(await kv.get("a"), { key: "a", value: enc("1"), modRevision: 1, lease: "" });
      const r = await kv.range("");
      assert.deepEqual([r.entries.map((e) => e.key), r.revision], [["a", "b"], 2]);
      assert.equal(await kv.delete("a"), 3);
      assert.equal(await kv.get("a"), undefined);
    });

    it("leases expire, are kept alive, revoked; keepAlive on an expired lease is NotFound", async () => {
      const { kv } = await make({ leaseCheckIntervalMs: 20 });
      const lease = await kv.grant(250);
      assert.match(lease, /^\d+$/);
      await kv.put("eph", enc("x"), { lease });
      assert.equal((await kv.get("eph"))?.lease, lease);
      const w = kv.watch("", 1);
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 100));
        await kv.keepAlive(lease);
      }
      assert.equal(dec((await kv.get("eph"))?.value), "x", "kept alive past its ttl");
      const ev = await take(w, 1, 2000); // expiry (no more keepAlives) deletes the key
      assert.deepEqual(ev.map(brief), ["2:delete:eph="]);
      await assert.rejects(kv.keepAlive(lease), isCode(Code.NotFound));
      await assert.rejects(kv.put("k", enc("v"), { lease }), isCode(Code.NotFound));
      const l2 = await kv.grant(60_000);
      await kv.put("r1", enc("1"), { lease: l2 });
      await kv.put("r2", enc("2"), { lease: l2 });
      await kv.revoke(l2);
      assert.deepEqual((await take(w, 4)).map(brief), ["3:put:r1=1", "4:put:r2=2", "5:delete:r1=", "6:delete:r2="]);
      await assert.rejects(kv.revoke(l2), isCode(Code.NotFound));
      await assert.rejects(kv.keepAlive("not-a-lease"), isCode(Code.InvalidArgument));
      w.stop();
    });

    it("watch: afterRevision is exclusive, follows live, ends with OutOfRange when compacted", async () => {
      const { kv, store } = await make({ historySize: 5 });
      for (let i = 1; i <= 3; i++) await kv.put(`k${String(i)}`, enc(String(i)));
      const w = kv.watch("k", 1);
      assert.deepEqual((await take(w, 2)).map(brief), ["2:put:k2=2", "3:put:k3=3"]);
      await kv.put("k4", enc("4"));
      assert.deepEqual((await take(w, 1)).map(brief), ["4:put:k4=4"]);
      w.stop();
      assert.equal((await w[Symbol.asyncIterator]().next()).done, true);
      for (let i = 5; i <= 9; i++) store.put(`k${String(i)}`, String(i));
      const old = kv.watch("k", 2);
      const err = await old[Symbol.asyncIterator]().next().catch((e: unknown) => e);
      assert.ok(GomsError.is(err) && err.code === Code.OutOfRange, String(err));
      assert.equal(resumeRevisionOf(err), 3);
      const ahead = kv.watch("k", 50);
      const err2 = await ahead[Symbol.asyncIterator]().next().catch((e: unknown) => e);
      assert.ok(GomsError.is(err2) && err2.code === Code.OutOfRange, String(err2));
    });

    it("a watcher that falls behind catches up from history (no lost or doubled events)", async () => {
      const { kv, store } = await make({ watchQueueSize: 3 });
      const w = kv.watch("", 0);
      await new Promise((r) => setTimeout(r, 50)); // the network watch's first poll is parked
      store.deletePrefix("x");
      for (let i = 1; i <= 20; i++) store.put(`k${String(i)}`, "v");
      const evs = await take(w, 20);
      assert.deepEqual(evs.map((e) => e.revision), Array.from({ length: 20 }, (_, i) => i + 1));
      w.stop();
      await kv.close();
      await until(() => store.watcherCount <= 1, 2000, "watchers released");
    });
  });
}
