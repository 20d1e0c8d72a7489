// Shedding at the edge: a gateway whose backends all refuse answers 503 with
// Retry-After at once, and per-route concurrency limits refuse past N in flight.
// Backends hold their calls until the test releases them: refusals that arrive
// while every admitted call is still held were not answered "after a timeout".
import assert from "node:assert/strict";
import http from "node:http";
import { describe, it } from "node:test";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import type { GomsNode } from "../../src/rpc/index.js";
import { until } from "../helpers.js";
import { useGatewayEnv } from "./helpers.js";
import { createGateway } from "../../src/gateway/index.js";

const { nodes, track } = useGatewayEnv();

interface Reply {
  status: number;
  retryAfter: string | undefined;
  body: { code?: string; reason?: string; message?: string };
}

/** One POST on its own connection (no agent pool: the flood must really be concurrent). */
function postOnce(port: number, path: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path, agent: false, headers: { "content-type": "application/json", "x-goms-timeout-ms": "60000" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h = res.headers["retry-after"];
        resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(h) ? h[0] : h, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Reply["body"] });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Calls to Query with key "hold" wait until release(); `held` counts the handlers waiting. */
function holdingDb(): { host: (n: GomsNode) => void; held: () => number; release: () => void } {
  let held = 0;
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => (open = r));
  return {
    held: () => held,
    release: () => open(),
    host: (n) =>
      n.service(DB, {
        update: () => ({}),
        async query(req) {
          if (req.key === "hold") {
            held++;
            await gate;
          }
          return { value: "v" };
        },
      }),
  };
}

/** Fires `n` requests at once; `done()` lists the answers received so far. */
function flood(port: number, path: string, body: string, n: number): { all: Promise<Reply[]>; done: () => Reply[] } {
  const done: Reply[] = [];
  const all = Promise.all(
    Array.from({ length: n }, () =>
      postOnce(port, path, body).then((r) => {
        done.push(r);
        return r;
      }),
    ),
  );
  return { all, done: () => done };
}

const TINY_LIMIT = { limits: { adaptiveConcurrency: { initialLimit: 2, minLimit: 2, maxLimit: 2 } } };

describe("gateway: shedding at the edge", () => {
  it("every backend at its limit: the rest get 503 + Retry-After at once (reason GOMS_ERR_BACKENDS_BUSY), never 504", async () => {
    const h = holdingDb();
    const dbs = [await nodes.start({ identity: { name: "db0" }, listen: { port: 0 }, ...TINY_LIMIT }, h.host), await nodes.start({ identity: { name: "db1" }, listen: { port: 0 }, ...TINY_LIMIT }, h.host)];
    const gwNode = await nodes.start({ identity: { name: "gate0" }, peers: { addresses: dbs.map((d) => ({ host: "127.0.0.1", port: d.port })) } });
    await until(() => gwNode.stats().peersReady === 2, 5000, "both backends ready");
    const gw = createGateway({ node: gwNode });
    track(gw);
    const port = (await gw.start()).port;

    const N = 24;
    const f = flood(port, "/api/DB/Query", '{"key":"hold"}', N);
    // Every request is either held by a handler or already answered, while nothing was released.
    await until(() => h.held() > 0 && h.held() + f.done().length === N, 15_000, "refusals while calls are held");
    const refused = [...f.done()];
    assert.ok(h.held() <= 4, `at most 2 calls run per backend, got ${h.held()}`);
    assert.ok(refused.length >= N - 4);
    for (const r of refused) {
      assert.equal(r.status, 503, JSON.stringify(r));
      assert.equal(r.retryAfter, "1");
      assert.equal(r.body.code, "unavailable");
      assert.equal(r.body.reason, "GOMS_ERR_BACKENDS_BUSY");
      assert.match(r.body.message ?? "", /every node serving goms\.examples\.v1\.DB refused the call: node is at capacity/);
    }
    const refusedByNodes = dbs.reduce((s, d) => s + d.stats().admission.refusedLimit, 0);
    assert.ok(refusedByNodes >= refused.length, `the backends refused (${refusedByNodes})`);
    h.release();
    const all = await f.all;
    assert.equal(all.filter((r) => r.status === 200).length, N - refused.length);
    assert.equal(all.filter((r) => r.status === 504).length, 0);
    // Once the load is gone the route serves again.
    assert.equal((await postOnce(port, "/api/DB/Query", '{"key":"x"}')).status, 200);
  });

  it("per-route concurrency limit: past N in flight, 503 + Retry-After at once; other routes unaffected", async () => {
    const h = holdingDb();
    const db = await nodes.start({ identity: { name: "db0" }, listen: { port: 0 } }, h.host);
    const gwNode = await nodes.start({ identity: { name: "gate0" }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] } });
    const gw = createGateway({ node: gwNode, shed: { maxInflightPerRoute: 3, routes: { "goms.examples.v1.DB/Update": 0 }, retryAfterSec: 2 } });
    track(gw);
    const port = (await gw.start()).port;

    const f = flood(port, "/api/DB/Query", '{"key":"hold"}', 10);
    await until(() => h.held() === 3 && f.done().length === 7, 15_000, "3 held, 7 refused");
    for (const r of f.done()) {
      assert.equal(r.status, 503, JSON.stringify(r));
      assert.equal(r.retryAfter, "2");
      assert.equal(r.body.reason, "GOMS_ERR_ROUTE_BUSY");
      assert.match(r.body.message ?? "", /goms\.examples\.v1\.DB\/Query already has 3 requests in flight/);
    }
    // Still full: one more is refused; the route with limit 0 always is.
    assert.equal((await postOnce(port, "/api/DB/Query", '{"key":"x"}')).body.reason, "GOMS_ERR_ROUTE_BUSY");
    const upd = await postOnce(port, "/api/DB/Update", '{"key":"k","value":"v"}');
    assert.deepEqual([upd.status, upd.body.reason], [503, "GOMS_ERR_ROUTE_BUSY"]);
    assert.equal(h.held(), 3);
    h.release();
    const all = await f.all;
    assert.deepEqual(all.map((r) => r.status).sort(), [200, 200, 200, ...Array<number>(7).fill(503)]);
    // The slots are given back when the responses end.
    assert.equal((await postOnce(port, "/api/DB/Query", '{"key":"x"}')).status, 200);
  });

  it("refuses invalid limits", async () => {
    const gwNode = await nodes.start({ identity: { name: "gate0" } });
    assert.throws(() => createGateway({ node: gwNode, shed: { maxInflightPerRoute: -1 } }), /shed\.maxInflightPerRoute/);
    assert.throws(() => createGateway({ node: gwNode, shed: { routes: { "DB/Query": 1.5 } } }), /shed\.routes/);
    assert.throws(() => createGateway({ node: gwNode, shed: { retryAfterSec: 0 } }), /shed\.retryAfterSec/);
  });
});
