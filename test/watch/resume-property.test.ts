import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { createStore, type WatchEvent, type WatchStore } from "../../src/watch/index.js";
import { brief, fakeClock, take } from "./helpers.js";

type Op =
  | { op: "put"; key: string; value: string; leased: boolean }
  | { op: "delete"; key: string }
  | { op: "deletePrefix"; prefix: string }
  | { op: "hset"; field: string; value: string }
  | { op: "hincrby"; field: string; n: number }
  | { op: "del" }
  | { op: "grant" }
  | { op: "revoke" }
  | { op: "advance"; ms: number };

const key = fc.constantFrom("a", "a/1", "a/2", "b", "h");
const field = fc.constantFrom("x", "y");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("put" as const), key, value: fc.string({ maxLength: 3 }), leased: fc.boolean() }),
  fc.record({ op: fc.constant("delete" as const), key }),
  fc.record({ op: fc.constant("deletePrefix" as const), prefix: fc.constantFrom("a", "a/", "") }),
  fc.record({ op: fc.constant("hset" as const), field, value: fc.constantFrom("", "1", "v") }),
  fc.record({ op: fc.constant("hincrby" as const), field, n: fc.integer({ min: -3, max: 3 }) }),
  fc.constant({ op: "del" as const }),
  fc.constant({ op: "grant" as const }),
  fc.constant({ op: "revoke" as const }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 150 }) }),
);

function apply(s: WatchStore, o: Op, leases: string[], advance: (ms: number) => void): void {
  try {
    switch (o.op) {
      case "put": {
        const lease = o.leased ? leases.at(-1) : undefined;
        s.put(o.key, o.value, lease === undefined ? {} : { lease });
        break;
      }
      case "delete":
        s.delete(o.key);
        break;
      case "deletePrefix":
        s.deletePrefix(o.prefix);
        break;
      case "hset":
        s.hset("h", o.field, o.value);
        break;
      case "hincrby":
        s.hincrby("h", o.field, o.n);
        break;
      case "del":
        s.del("h");
        break;
      case "grant":
        leases.push(s.grant(100));
        break;
      case "revoke": {
        const id = leases.pop();
        if (id !== undefined) s.revoke(id);
        break;
      }
      case "advance":
        advance(o.ms);
        s.expireLeases();
        break;
    }
  } catch {
    // hincrby on "v", revoke of an expired lease, put on an expired lease: expected failures
  }
}

test("stop anywhere, resume from lastSeen+1: concatenation equals the full log", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 1, maxLength: 40 }),
      fc.constantFrom("", "a", "a/", "h"),
      fc.nat(),
      fc.nat(),
      fc.array(fc.nat({ max: 3 }), { minLength: 40, maxLength: 40 }),
      async (ops, prefix, stopSeed, resumeSeed, takes) => {
        const clock = fakeClock();
        const s = createStore({ now: clock.now, leaseCheckIntervalMs: 0, historySize: 1000 });
        const leases: string[] = [];
        const matches = (ev: WatchEvent | undefined): boolean => ev !== undefined && ev.key.startsWith(prefix);
        const full = s.watch({ prefix });
        const stopAt = stopSeed % (ops.length + 1);
        const resumeAt = stopAt + (resumeSeed % (ops.length - stopAt + 1));
        const got: WatchEvent[] = [];
        let w = s.watch({ prefix });
        let available = 0;
        let rev = 0;
        for (let i = 0; i <= ops.length; i++) {
          if (i === stopAt) {
            w.stop();
            available = 0;
          }
          if (i === resumeAt) {
            const from = (got.at(-1)?.revision ?? 0) + 1;
            w = s.watch({ prefix, startRevision: from });
            for (let r = from; r <= s.revision; r++) if (matches(s.history.at(r))) available++;
          }
          const o = ops[i];
          if (o === undefined) break;
          apply(s, o, leases, clock.advance);
          for (rev++; rev <= s.revision; rev++) if (i < stopAt || i >= resumeAt) available += matches(s.history.at(rev)) ? 1 : 0;
          rev = s.revision;
          if (i < stopAt || i >= resumeAt) {
            const n = Math.min(available, takes[i] ?? 0);
            got.push(...(await take(w, n)));
            available -= n;
          }
        }
        got.push(...(await take(w, available)));
        const expected: WatchEvent[] = [];
        for (let r = 1; r <= s.revision; r++) {
          const ev = s.history.at(r);
          if (matches(ev) && ev !== undefined) expected.push(ev);
        }
        const live = await take(full, expected.length);
        assert.deepEqual(got.map(brief), expected.map(brief));
        assert.deepEqual(live.map(brief), expected.map(brief));
        if (prefix === "") assert.deepEqual(expected.map((e) => e.revision), expected.map((_, i) => i + 1));
        // nothing extra is pending on either watcher
        s.put(`${prefix}zz-sentinel`, "s");
        assert.equal((await take(w, 1))[0]?.key, `${prefix}zz-sentinel`);
        assert.equal((await take(full, 1))[0]?.key, `${prefix}zz-sentinel`);
        s.close();
      },
    ),
    { numRuns: 150 },
  );
});
