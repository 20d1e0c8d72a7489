// The bounded keyed table never exceeds its limit, whatever the sequence of operations.
import fc from "fast-check";
import assert from "node:assert/strict";
import { CappedMap } from "../../src/internal/util/capped-map.js";
import { gomsError } from "../../src/errors/index.js";
import type { FuzzTarget } from "./target.js";

const op = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key: fc.nat(20) }),
  fc.record({ kind: fc.constant("delete" as const), key: fc.nat(20) }),
);

export const cappedMapTargets: FuzzTarget[] = [
  {
    name: "capped-map",
    check(runs) {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 60 }), (limit, ops) => {
          const m = new CappedMap<number, number>(limit, (l) => gomsError("GOMS_ERR_TOO_MANY_CALLS", { limit: l }));
          const model = new Map<number, number>();
          for (const o of ops) {
            if (o.kind === "delete") {
              assert.equal(m.delete(o.key), model.delete(o.key));
            } else {
              const fits = model.has(o.key) || model.size < limit;
              assert.equal(m.trySet(o.key, o.key), fits);
              if (fits) model.set(o.key, o.key);
            }
            assert.ok(m.size <= limit);
          }
          assert.deepEqual([...m], [...model]);
        }),
        { numRuns: runs },
      );
    },
  },
];
