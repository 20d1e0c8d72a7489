/**
 * The KvBackend + registry conformance suite. Every backend runs exactly these
 * tests (conformance-<backend>.test.ts). Each test works under its own random
 * prefix, so one server can serve the whole suite.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, GomsError } from "../../src/errors/index.js";
import { NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import type { KvBackend, KvEvent } from "../../src/kv/backend.js";
import type { RegistryNodeChange } from "../../src/registry/node-watch.js";
import { createRegistry, type Registry } from "../../src/registry/registry.js";
import { sleep, until } from "../helpers.js";

export interface BackendHarness {
  /** A new client of the backend under test (closed by the suite). */
  connect(): Promise<KvBackend>;
  /** Makes every revision up to the current one unavailable to watches on `kv`. */
  forgetHistory(kv: KvBackend): Promise<void>;
  /** Stops the server and cleans up. */
  destroy(): Promise<void>;
}

/** Lease TTL used by the suite; etcd rounds to seconds, so keep it a whole second. */
const TTL = 1000;
/** Slack for lease reaping (etcd checks every ~500 ms) and a loaded 2-core box. */
const MARGIN = 2500;

const enc = new TextEncoder();
const dec = new TextDecoder();

function uniquePrefix(): string {
  return `t/${randomBytes(6).toString("hex")}/`;
}

/** Pumps an async iterable into an array in the background. */
export function collect<T>(it: AsyncIterable<T>): { items: T[]; error: () => unknown; done: () => boolean } {
  const items: T[] = [];
  let error: unknown;
  let done = false;
  void (async () => {
    try {
      for await (const x of it) items.push(x);
    } catch (e) {
      error = e;
    } finally {
      done = true;
    }
  })();
  return { items, error: () => error, done: () => done };
}

async function rejectsWith(p: Promise<unknown>, code: Code): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(GomsError.is(e), `expected GomsError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

function identity(name: string, set = "s1") {
  return create(NodeIdentitySchema, { name, set, host: "127.0.0.1", port: 1234, services: ["goms.test.Svc"] });
}

export function kvConformance(name: string, start: () => Promise<BackendHarness>): void {
  // Sequential at the top: the groups below run their tests concurrently, and
  // forgetHistory (compaction) must not run while other tests replay history.
  describe(`KvBackend conformance: ${name}`, () => {
    let h: BackendHarness;
    const clients: KvBackend[] = [];
    const connect = async (): Promise<KvBackend> => {
      const kv = await h.connect();
      clients.push(kv);
      return kv;
    };
    before(async () => {
      h = await start();
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await h.destroy();
    });

    describe("kv", { concurrency: true }, () => {
      it("put, get, range (sorted, with revision), delete", async () => {
        const kv = await connect();
        const p = uniquePrefix();
        const r1 = await kv.put(`${p}b`, enc.encode("2"));
        const r2 = await kv.put(`${p}a`, enc.encode("1"));
        assert.ok(r2 > r1);
        await kv.put(`${p.slice(0, -1)}x`, enc.encode("outside"));
        const got = await kv.get(`${p}a`);
        assert.equal(dec.decode(got?.value), "1");
        assert.equal(got?.modRevision, r2);
        assert.equal(got?.lease, "");
        assert.equal(await kv.get(`${p}missing`), undefined);
        const { entries, revision } = await kv.range(p);
        assert.deepEqual(entries.map((e) => e.key), [`${p}a`, `${p}b`]);
        assert.ok(revision >= r2);
        const r3 = await kv.delete(`${p}a`);
        assert.ok(r3 > r2);
        assert.equal(await kv.get(`${p}a`), undefined);
        assert.deepEqual((await kv.range(p)).entries.map((e) => e.key), [`${p}b`]);
      });

      it("a key over 4 KiB or a value over 1.5 MiB is refused with InvalidArgument, nothing written", async () => {
        const kv = await connect();
        const p = uniquePrefix();
        await rejectsWith(kv.put(`${p}${"k".repeat(4097)}`, enc.encode("v")), Code.InvalidArgument);
        await rejectsWith(kv.put(`${p}v`, new Uint8Array(1.5 * 1024 * 1024 + 1)), Code.InvalidArgument);
        assert.deepEqual((await kv.range(p)).entries, []);
      });

      it("lease expiry removes its keys; keepAlive and revoke of a dead lease give NotFound", async () => {
        const kv = await connect();
        const p = uniquePrefix();
        const lease = await kv.grant(TTL);
        await kv.put(`${p}k`, enc.encode("v"), { lease });
        assert.equal((await kv.get(`${p}k`))?.lease, lease);
        const t0 = Date.now();
        while ((await kv.get(`${p}k`)) !== undefined) {
          assert.ok(Date.now() - t0 < TTL + MARGIN, "leased key outlived its TTL");
          await sleep(100);
        }
        assert.ok(Date.now() - t0 >= TTL - 200, "key vanished before its TTL");
        await rejectsWith(kv.keepAlive(lease), Code.NotFound);
        await rejectsWith(kv.revoke(lease), Code.NotFound);
        await rejectsWith(kv.put(`${p}k2`, enc.encode("v"), { lease }), Code.NotFound);
      });

      it("keepAlive keeps leased keys past the TTL", async () => {
        const kv = await connect();
        const p = uniquePrefix();
        const lease = await kv.grant(TTL);
        await kv.put(`${p}k`, enc.encode("v"), { lease });
        const end = Date.now() + TTL * 2 + 500;
        while (Date.now() < end) {
          await kv.keepAlive(lease);
          await sleep(TTL / 4);
        }
        assert.notEqual(await kv.get(`${p}k`), undefined);
        await kv.revoke(lease);
      });

      it("revoke deletes the lease's keys at once", async () => {
        const kv = await connect();
        const p = uniquePrefix();
        const lease = await kv.grant(10_000);
        await kv.put(`${p}a`, enc.encode("1"), { lease });
        await kv.put(`${p}b`, enc.encode("2"), { lease });
        await kv.put(`${p}c`, enc.encode("3"));
        await kv.revoke(lease);
        assert.deepEqual((await kv.range(p)).entries.map((e) => e.key), [`${p}c`]);
        await rejectsWith(kv.keepAlive(lease), Code.NotFound);
      });

      it("watch from a revision delivers exactly the later events (exclusive)", async () => {
        const kv = await connect();
        const p = uniquePrefix();
        await kv.put(`${p}a`, enc.encode("1"));
        const rev = await kv.put(`${p}b`, enc.encode("2"));
        await kv.put(`${p}c`, enc.encode("3"));
        await kv.delete(`${p}a`);
        await kv.put(`${p.slice(0, -1)}-other`, enc.encode("x"));
        const w = kv.watch(p, rev);
        const got = collect(w);
        await until(() => got.items.length >= 2, 5000, "replayed events");
        const last = await kv.put(`${p}d`, enc.encode("4"));
        await until(() => got.items.length >= 3, 5000, "live event");
        await sleep(100);
        w.stop();
        const summary = got.items.map((e: KvEvent) => [e.type, e.key.slice(p.length), e.value === undefined ? null : dec.decode(e.value)]);
        assert.deepEqual(summary, [
          ["put", "c", "3"],
          ["delete", "a", null],
          ["put", "d", "4"],
        ]);
        assert.ok(got.items.every((e) => e.revision > rev));
        assert.equal(got.items[2]?.revision, last);
        await until(() => got.done(), 2000, "watch to end after stop()");
        assert.equal(got.error(), undefined);
      });

      it("watch without a revision starts from now; sees lease-expiry deletes", async () => {
        const kv = await connect();
        const p = uniquePrefix();
        await kv.put(`${p}old`, enc.encode("x"));
        const lease = await kv.grant(TTL);
        const w = kv.watch(p);
        const got = collect(w);
        await sleep(200); // let the watch reach the server
        await kv.put(`${p}k`, enc.encode("v"), { lease });
        await until(() => got.items.some((e) => e.type === "delete"), TTL + MARGIN, "lease-expiry delete event");
        w.stop();
        assert.deepEqual(
          got.items.map((e) => [e.type, e.key.slice(p.length)]),
          [
            ["put", "k"],
            ["delete", "k"],
          ],
        );
      });

    });

    describe("registry", { concurrency: true }, () => {
      const registries: Registry[] = [];
      const registry = async (): Promise<Registry> => {
        const r = createRegistry({ kv: await connect(), ttlMs: TTL, prefix: `${uniquePrefix()}nodes/` });
        registries.push(r);
        return r;
      };
      after(async () => {
        await Promise.all(registries.map((r) => r.close()));
      });

      const ups = (evs: RegistryNodeChange[]): string[] => evs.filter((e) => e.type === "up").map((e) => e.name);
      const downs = (evs: RegistryNodeChange[]): string[] => evs.filter((e) => e.type === "down").map((e) => e.name);

      it("register appears in list() and as 'up' in watchNodes(); close() deregisters with 'down'", async () => {
        const r = await registry();
        const a = await r.register(identity("a"));
        const w = r.watchNodes();
        const got = collect(w);
        await until(() => ups(got.items).includes("a"), 5000, "up a");
        const b = await r.register(identity("b", "")); // empty set -> "default"
        await until(() => ups(got.items).includes("b"), 5000, "up b");
        const { nodes, revision } = await r.list();
        assert.deepEqual(nodes.map((n) => n.node?.name).sort(), ["a", "b"]);
        assert.ok(revision > 0);
        assert.equal(b.key, `${r.prefix}default/b`);
        assert.equal(a.state, "registered");
        const ev = got.items.find((e) => e.name === "a");
        assert.equal(ev?.set, "s1");
        assert.equal(ev?.registration?.node?.port, 1234);
        await a.close();
        assert.equal(a.state, "closed");
        await until(() => downs(got.items).includes("a"), 3000, "down a after close");
        assert.deepEqual((await r.list()).nodes.map((n) => n.node?.name), ["b"]);
        w.stop();
        await b.close();
      });

      it("a registration keeps itself alive past its TTL", async () => {
        const r = await registry();
        const a = await r.register(identity("alive"));
        await sleep(TTL * 2 + 500);
        assert.equal((await r.list()).nodes.length, 1);
        assert.equal(a.writes, 1, "no re-registration needed");
        await a.close();
      });

      it("a dead node (keepalive stopped, no revoke) goes 'down' within ttl + margin", async () => {
        const r = await registry();
        const w = r.watchNodes();
        const got = collect(w);
        const a = await r.register(identity("dead"));
        await until(() => ups(got.items).includes("dead"), 5000, "up");
        a.abandon();
        const t0 = Date.now();
        await until(() => downs(got.items).includes("dead"), TTL + MARGIN, "down after abandon");
        assert.ok(Date.now() - t0 >= TTL / 2, "went down before its TTL");
        assert.deepEqual((await r.list()).nodes, []);
        w.stop();
      });

      it("re-registers by itself when its key is deleted externally", async () => {
        const r = await registry();
        const errors: GomsError[] = [];
        const a = await r.register(identity("x"), undefined, { onError: (e) => errors.push(e) });
        const w = r.watchNodes();
        const got = collect(w);
        await until(() => ups(got.items).length === 1, 5000, "first up");
        await r.kv.delete(a.key);
        await until(() => downs(got.items).length === 1, 5000, "down after delete");
        await until(() => ups(got.items).length === 2, TTL + MARGIN, "up again");
        assert.notEqual(await r.kv.get(a.key), undefined);
        assert.equal(a.writes, 2);
        assert.equal(a.state, "registered");
        w.stop();
        await a.close();
      });

      it("same set/name twice: the older one yields (conflict, AlreadyExists) and takes over when the key is free", async () => {
        const r = await registry();
        const errors: GomsError[] = [];
        const a = await r.register(identity("twin"), undefined, { onError: (e) => errors.push(e) });
        const b = await r.register(identity("twin"));
        await until(() => a.state === "conflict", TTL + MARGIN, "conflict");
        assert.ok(errors.some((e) => e.code === Code.AlreadyExists));
        assert.equal((await r.kv.get(a.key))?.lease, b.lease);
        await b.close();
        await until(() => a.state === "registered", TTL + MARGIN, "take over");
        assert.equal((await r.kv.get(a.key))?.lease, a.lease);
        await a.close();
      });

      it("re-registers with a new lease when its lease is revoked externally", async () => {
        const r = await registry();
        const errors: GomsError[] = [];
        const a = await r.register(identity("y"), undefined, { onError: (e) => errors.push(e) });
        const first = a.lease;
        assert.ok(first !== undefined);
        await r.kv.revoke(first);
        await until(() => a.lease !== undefined && a.lease !== first, TTL + MARGIN, "new lease");
        const cur = await r.kv.get(a.key);
        assert.equal(cur?.lease, a.lease);
        assert.ok(errors.some((e) => e.code === Code.NotFound), "NotFound reported through onError");
        await a.close();
        assert.equal(await r.kv.get(a.key), undefined);
      });
    });

    it("watch from a forgotten revision ends with OutOfRange", async () => {
      const kv = await connect();
      const p = uniquePrefix();
      const rev = await kv.put(`${p}a`, enc.encode("1"));
      await kv.put(`${p}a`, enc.encode("2"));
      await h.forgetHistory(kv);
      const got = collect(kv.watch(p, rev - 1));
      await until(() => got.done(), 5000, "watch to fail");
      const err = got.error();
      assert.ok(GomsError.is(err), String(err));
      assert.equal(err.code, Code.OutOfRange);
    });
  });
}
