/**
 * watchNodes resync: when the backend watch ends with OutOfRange (history
 * compacted) or Unavailable, it lists again and emits exactly the difference.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, GomsError } from "../../src/errors/index.js";
import { NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import { NodeRegistrationSchema } from "../../src/gen/goms/v1/registry_pb.js";
import { embeddedKv } from "../../src/kv/embedded.js";
import type { KvBackend, KvEvent, KvWatch } from "../../src/kv/backend.js";
import { createRegistry } from "../../src/registry/registry.js";
import { AsyncQueue } from "../../src/internal/util/async-queue.js";
import { until } from "../helpers.js";
import { collect } from "./conformance.js";

function value(name: string, port = 1): Uint8Array {
  return toBinary(NodeRegistrationSchema, create(NodeRegistrationSchema, { node: create(NodeIdentitySchema, { name, port }) }));
}

/** An embedded backend whose watches the test can break with an error. */
function breakable(): { kv: KvBackend; breakWatches(err: GomsError): void; watchCalls: () => number; hold(): () => void } {
  const inner = embeddedKv();
  let gate: Promise<void> | undefined;
  const live = new Set<AsyncQueue<KvEvent>>();
  let calls = 0;
  const kv: KvBackend = {
    kind: "breakable",
    put: (k, v, o) => inner.put(k, v, o),
    get: (k) => inner.get(k),
    range: async (p) => {
      await gate;
      return inner.range(p);
    },
    delete: (k) => inner.delete(k),
    grant: (t) => inner.grant(t),
    keepAlive: (l) => inner.keepAlive(l),
    revoke: (l) => inner.revoke(l),
    close: () => inner.close(),
    watch(prefix, from): KvWatch {
      calls++;
      const src = inner.watch(prefix, from);
      const q: AsyncQueue<KvEvent> = new AsyncQueue<KvEvent>({
        limit: 1000,
        onClose: () => {
          live.delete(q);
          src.stop();
        },
      });
      live.add(q);
      void (async () => {
        for await (const ev of src) q.push(ev);
      })();
      return q;
    },
  };
  return {
    kv,
    breakWatches: (err) => [...live].forEach((q) => q.fail(err)),
    watchCalls: () => calls,
    /** Blocks range() until the returned function is called. */
    hold: () => {
      let release = (): void => undefined;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe("watchNodes resync", () => {
  for (const code of [Code.OutOfRange, Code.Unavailable]) {
    it(`re-lists after ${Code[code]} and emits only the difference`, async () => {
      const { kv, breakWatches, watchCalls, hold } = breakable();
      const r = createRegistry({ kv, prefix: "n/" });
      await kv.put("n/s/a", value("a"));
      await kv.put("n/s/b", value("b"));
      const w = r.watchNodes();
      const got = collect(w);
      await until(() => got.items.length === 2 && watchCalls() === 1, 2000, "initial ups");

      // Break the watch and hold the re-list; change things while nobody watches.
      const release = hold();
      breakWatches(new GomsError("broken", code));
      await kv.delete("n/s/a");
      await kv.put("n/s/c", value("c"));
      await kv.put("n/s/b", value("b", 2)); // changed registration
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(got.items.length, 2, "nothing seen while the watch is down");
      release();
      await until(() => got.items.length >= 5, 2000, "diff events");
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(watchCalls(), 2);
      w.stop();
      const summary = got.items.map((e) => `${e.type}:${e.name}`);
      assert.deepEqual(summary.slice(0, 2), ["up:a", "up:b"]);
      // The re-list reports the difference, each change once.
      assert.deepEqual(summary.slice(2).sort(), ["down:a", "up:b", "up:c"]);
      assert.equal(got.items.find((e) => e.name === "b" && e.registration?.node?.port === 2)?.type, "up");
      await kv.close();
    });
  }

  it("skips undecodable values and reports them", async () => {
    const kv = embeddedKv();
    const errors: GomsError[] = [];
    const r = createRegistry({ kv, prefix: "n/", onError: (e) => errors.push(e) });
    await kv.put("n/s/bad", new Uint8Array([0xff, 0xff, 0xff]));
    await kv.put("n/s/good", value("good"));
    const { nodes } = await r.list();
    assert.deepEqual(nodes.map((n) => n.node?.name), ["good"]);
    assert.equal(errors[0]?.code, Code.DataLoss);
    await kv.close();
  });
});
