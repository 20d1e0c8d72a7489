import assert from "node:assert/strict";
import { once } from "node:events";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { createWatchServer, type WatchServer } from "../../src/watch/index.js";
import { freePort, Procs } from "../procs.js";
import { until } from "../helpers.js";

// `goms gateway --workers 2` as a real process (node:cluster), in front of a real db node found through a real watch server.
const procs = new Procs();
let watch: WatchServer;
let gateway: Awaited<ReturnType<Procs["start"]>>;
let httpPort = 0;
const RATE = 1;
const BURST = 10;

before(async () => {
  watch = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 } }).start();
  await procs.start(["examples/microservice/db.ts", "--port", String(await freePort()), "--registry", watch.url], /db0 serving/, {}, 60_000);
  httpPort = await freePort();
  gateway = await procs.start(
    ["src/cli/main.ts", "gateway", "--workers", "2", "--port", String(httpPort), "--registry", watch.url, "--trusted-proxy", "127.0.0.1", "--rate-per-ip", `${RATE}:${BURST}`],
    /gateway gate0-0 on[\s\S]*gateway gate0-1 on|gateway gate0-1 on[\s\S]*gateway gate0-0 on/,
    {},
    60_000, // the machine running the suite may be busy: 3 processes start here
  );
});
after(async () => {
  procs.killAll();
  await watch.close({ graceMs: 0 });
});

interface Answer {
  status: number;
  worker: string;
  body: string;
}

/** POST /api/DB/Query on a connection of its own (so that the cluster spreads requests over workers), as client `ip`. */
function query(ip: string, port = httpPort): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/api/DB/Query", method: "POST", agent: false, headers: { "content-type": "application/json", "x-forwarded-for": ip } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, worker: String(res.headers["x-goms-worker"] ?? ""), body }));
    });
    req.on("error", reject);
    req.end('{"key":"a"}');
  });
}

let fresh = 0;
/** A client IP never used before, so the per-IP limit does not apply. */
const newIp = (): string => `10.1.${Math.floor(++fresh / 250)}.${fresh % 250}`;

/** Queries until every wanted worker name has answered 200; returns worker name -> pid. */
async function workersSeen(want: string[], pred: (name: string, pid: number) => boolean = () => true): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < 400 && !want.every((w) => seen.has(w)); i++) {
    const a = await query(newIp());
    if (a.status !== 200) continue;
    const [name, pid] = a.worker.split(" ");
    if (name !== undefined && pred(name, Number(pid))) seen.set(name, Number(pid));
  }
  return seen;
}

describe("goms gateway --workers 2", () => {
  it("both workers serve the one port, each a gate node of its own", async () => {
    const a = await query(newIp());
    assert.equal(a.status, 200, a.body);
    assert.equal(a.body, "{}"); // proto3 JSON omits the empty value
    const seen = await workersSeen(["gate0-0", "gate0-1"]);
    assert.deepEqual([...seen.keys()].sort(), ["gate0-0", "gate0-1"]);
    assert.notEqual(seen.get("gate0-0"), seen.get("gate0-1"));
  });

  it("a worker killed with SIGKILL is respawned and serves again", async () => {
    const before = await workersSeen(["gate0-0"]);
    const old = before.get("gate0-0")!;
    process.kill(old, "SIGKILL");
    await until(() => new RegExp(`worker 0 \\(pid ${old}\\) exited with SIGKILL`).test(gateway.out()), 10_000, "exit seen");
    await until(() => (gateway.out().match(/gateway gate0-0 on/g) ?? []).length === 2, 30_000, "worker 0 back");
    const after = await workersSeen(["gate0-0"], (name, pid) => name === "gate0-0" && pid !== old);
    assert.ok(after.has("gate0-0"), "the new worker 0 answers");
    assert.notEqual(after.get("gate0-0"), old);
  });

  it("a per-IP limit is shared by the workers: together they admit at most burst + rate × elapsed", async () => {
    const ip = "192.0.2.7";
    const t0 = performance.now();
    const answers: Answer[] = [];
    // 40 requests, 8 at a time, each on a new connection: the cluster spreads them over both workers.
    for (let round = 0; round < 5; round++) answers.push(...(await Promise.all(Array.from({ length: 8 }, () => query(ip)))));
    const elapsedSec = (performance.now() - t0) / 1000;
    const ok = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    assert.equal(ok + limited.length, answers.length, answers.map((a) => a.status).join(","));
    // One shared bucket: the burst, plus what refills while the test runs (a worker each would admit 2 × burst).
    assert.ok(ok >= BURST, `admitted ${ok}, the burst is ${BURST}`);
    assert.ok(ok <= BURST + Math.ceil(RATE * elapsedSec), `admitted ${ok} in ${elapsedSec.toFixed(2)} s: more than ${BURST} + ${RATE}/s`);
    assert.deepEqual(new Set(answers.map((a) => a.worker.split(" ")[0])), new Set(["gate0-0", "gate0-1"]), "both workers answered");
    assert.ok(limited.every((a) => /rate limit exceeded/.test(a.body)));
  });

  it("SIGTERM drains every worker and the primary exits 0", async () => {
    gateway.p.kill("SIGTERM");
    const [code] = (await once(gateway.p, "exit")) as [number | null];
    assert.equal(code, 0, gateway.out());
    assert.match(gateway.out(), /worker 0 \(pid \d+\) exited with code 0/);
    assert.match(gateway.out(), /worker 1 \(pid \d+\) exited with code 0/);
  });
});

describe("goms gateway --workers 2 --rate-max-keys 2", () => {
  let port = 0;
  before(async () => {
    port = await freePort();
    // 0.01 tokens/s: no bucket refills while the test runs, so the table stays full.
    await procs.start(
      ["src/cli/main.ts", "gateway", "--workers", "2", "--name", "gate1", "--port", String(port), "--registry", watch.url, "--trusted-proxy", "127.0.0.1", "--rate-per-ip", "0.01:2", "--rate-max-keys", "2"],
      /gateway gate1-0 on[\s\S]*gateway gate1-1 on|gateway gate1-1 on[\s\S]*gateway gate1-0 on/,
      {},
      60_000,
    );
  });

  it("a full table refuses new clients (429, over IPC) and keeps the throttled client's bucket", async () => {
    const seq = async (ip: string, n: number): Promise<Answer[]> => {
      const out: Answer[] = [];
      for (let i = 0; i < n; i++) out.push(await query(ip, port));
      return out;
    };
    assert.deepEqual((await seq("192.0.2.1", 3)).map((a) => a.status), [200, 200, 429]);
    assert.equal((await query("192.0.2.2", port)).status, 200);
    // Both buckets are refilling: every new client is refused, by whichever worker takes the connection.
    const flood = await Promise.all(Array.from({ length: 16 }, (_, i) => query(`198.51.100.${i}`, port)));
    assert.deepEqual(new Set(flood.map((a) => a.status)), new Set([429]));
    assert.ok(flood.every((a) => /already tracks 2 clients/.test(a.body)), flood[0]?.body);
    assert.equal(new Set(flood.map((a) => a.worker.split(" ")[0])).size, 2, "both workers answered");
    assert.equal((await query("192.0.2.2", port)).status, 200, "a known client is still served");
    const victim = await query("192.0.2.1", port);
    assert.equal(victim.status, 429, "the throttled client got no fresh burst");
    assert.match(victim.body, /rate limit exceeded/);
  });
});
