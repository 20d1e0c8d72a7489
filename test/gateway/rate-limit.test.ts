import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { RateLimiter, RetryLater } from "../../src/gateway/rate-limit.js";
import { post, useGatewayEnv } from "./helpers.js";

const { env } = useGatewayEnv();

/** A limiter on a clock the test moves: `clock.t` ms. */
function limiter(ratePerSec: number, burst: number, maxKeys: number): { rl: RateLimiter; clock: { t: number } } {
  const clock = { t: 0 };
  return { rl: new RateLimiter({ ratePerSec, burst }, maxKeys, () => clock.t), clock };
}

function refusal(f: () => unknown): RetryLater {
  try {
    f();
  } catch (e) {
    if (e instanceof RetryLater) return e;
    throw e;
  }
  assert.fail("expected a RetryLater");
}

describe("RateLimiter: a bounded table that never evicts a throttled client", () => {
  it("a flood of new keys cannot evict a throttled client's bucket", () => {
    const { rl, clock } = limiter(1, 3, 3);
    for (let i = 0; i < 3; i++) assert.equal(rl.take("victim"), 0);
    assert.equal(rl.take("victim"), 1, "throttled");
    assert.equal(rl.take("a"), 0);
    assert.equal(rl.take("b"), 0);
    // The table is full and no bucket has refilled: new keys are refused, with the time until one refills.
    for (let i = 0; i < 1000; i++) {
      const e = refusal(() => rl.take(`attacker-${i}`));
      assert.equal(e.reason, "GOMS_ERR_RATE_LIMIT_FULL");
      assert.equal(e.retryAfterSec, 1);
    }
    assert.equal(rl.size, 3);
    assert.equal(rl.take("victim"), 1, "still throttled: no fresh burst");
    assert.equal(rl.take("a"), 0, "known clients are served");
    // a and b refill after 1 s; the victim (3 tokens short) after 3 s.
    clock.t = 1000;
    assert.equal(rl.take("attacker-x"), 0, "a refilled bucket made room");
    assert.equal(rl.take("victim"), 0, "the victim got one token back, no more");
    assert.equal(rl.take("victim"), 1);
  });

  it("answers exactly as unbounded buckets would, refusing a new key only when every bucket is still refilling", () => {
    // Integer arithmetic throughout (1 token per ms), so the model and the limiter agree exactly.
    const op = fc.record({ key: fc.integer({ min: 0, max: 7 }), dt: fc.integer({ min: 0, max: 6 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 200 }), (burst, maxKeys, ops) => {
        const { rl, clock } = limiter(1000, burst, maxKeys);
        const model = new Map<number, { tokens: number; at: number }>();
        const tokensAt = (b: { tokens: number; at: number }, t: number): number => Math.min(burst, b.tokens + (t - b.at));
        for (const { key, dt } of ops) {
          clock.t += dt;
          const t = clock.t;
          let got: number | RetryLater;
          try {
            got = rl.take(String(key));
          } catch (e) {
            assert.ok(e instanceof RetryLater);
            got = e;
          }
          if (got instanceof RetryLater) {
            const b = model.get(key);
            assert.ok(b === undefined || tokensAt(b, t) === burst, "only a new (or refilled) key is refused");
            const refilling = [...model.values()].filter((m) => tokensAt(m, t) < burst).length;
            assert.ok(refilling >= maxKeys, `refused with ${refilling} buckets refilling, room for ${maxKeys}`);
            continue;
          }
          const b = model.get(key) ?? { tokens: burst, at: t };
          b.tokens = tokensAt(b, t);
          b.at = t;
          model.set(key, b);
          const want = b.tokens >= 1 ? 0 : 1;
          if (b.tokens >= 1) b.tokens -= 1;
          assert.equal(got, want);
        }
        assert.ok(rl.size <= maxKeys);
      }),
      { numRuns: 300 },
    );
  });

  it("a gateway answers a new client 429 GOMS_ERR_RATE_LIMIT_FULL when its table is full", async () => {
    const { port } = await env({ trustedProxies: ["127.0.0.0/8"], rateLimit: { perIp: { ratePerSec: 0.01, burst: 2 }, maxKeys: 2 } });
    const as = (ip: string) => post(port, "/api/DB/Query", "{}", { "x-forwarded-for": ip });
    assert.equal((await as("192.0.2.1")).status, 200);
    assert.equal((await as("192.0.2.1")).status, 200);
    assert.equal((await as("192.0.2.1")).status, 429);
    assert.equal((await as("192.0.2.2")).status, 200);
    const full = await as("192.0.2.3");
    assert.equal(full.status, 429);
    assert.equal((full.json as { code: string }).code, "resource_exhausted");
    assert.match(JSON.stringify(full.json), /already tracks 2 clients/);
    assert.ok(Number(full.headers["retry-after"]) >= 1);
    assert.equal((await as("192.0.2.2")).status, 200, "a known client is still served");
    assert.equal((await as("192.0.2.1")).status, 429, "the throttled client kept its empty bucket");
  });
});
