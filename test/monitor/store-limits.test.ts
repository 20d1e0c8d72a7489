// The monitor store is bounded (issue 10, defect 2), against a real `goms
// admin` process: pushes of ~0.9 MiB under new node names are refused by the
// per-push size limit, new nodes past --monitor-max-nodes are refused, and the
// admin's RSS stays within a stated figure. Unbounded, 150 such pushes added
// 133-196 MiB.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code } from "../../src/errors/index.js";
import { NodeStatsSchema, type NodeStats } from "../../src/gen/goms/v1/monitor_pb.js";
import type { GomsNode } from "../../src/rpc/index.js";
import { freePort, Procs } from "../procs.js";
import { consoleNodes, pushAs, rssBytes } from "./push-helpers.js";

const procs = new Procs();
let dataDir: string | undefined;
after(async () => {
  procs.killAll();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
const MAX_NODES = 40;
/** Pushes of ~0.9 MiB under new names: twice what the issue saw grow the admin by 133-196 MiB. */
const BIG_PUSHES = 300;
/**
 * Stated bounds on the admin's RSS. Unbounded, the first 150 big pushes alone
 * added 198 MiB here (the issue saw 133-196 MiB), and every push kept its
 * 0.9 MiB. Bounded, nothing is kept, and what the big pushes add is the
 * garbage collector's headroom for decoding them: 45-53 MiB on Node 20,
 * 110-145 MiB on Node 24 (whose V8 collects later), about the same after 150
 * pushes as after 300 or 600. So the second half of the big pushes must add
 * far less than the 135 MiB that keeping them would, and the whole attack
 * (with the node-cap phase, about 18 MiB of connections and heap; the 37 kept
 * nodes hold about 2 MiB) stays under half of what 300 kept pushes would add.
 */
const MAX_SECOND_HALF_GROWTH = 48 * MiB;
const MAX_GROWTH = 192 * MiB;

/** NodeStats of about `bytes`, padded with long service names over `methods` entries (what an attacker controls). */
function statsOf(bytes: number, methods: number, seed: string): (node: GomsNode) => NodeStats {
  return (node) => {
    const each = Math.floor(bytes / methods);
    return create(NodeStatsSchema, {
      node: node.identity(),
      intervalMs: 5000,
      methods: Array.from({ length: methods }, (_, i) => ({ side: "server", service: `${seed}${i}`.padEnd(each, "x"), method: "M", calls: 1n })),
    });
  };
}

/** Runs `fn(i)` for i < n, `width` at a time. */
async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

it("goms admin: 0.9 MiB pushes under new names are refused by size, new nodes past the cap by count, RSS stays bounded", async (t) => {
  const [ap, np] = [await freePort(), await freePort()];
  dataDir = await mkdtemp(join(tmpdir(), "goms-store-limits-"));
  const token = "limits-test-token";
  const password = "a password for the test";
  const admin = await procs.start(
    ["src/cli/main.ts", "admin", "--port", String(ap), "--node-port", String(np), "--token", token, "--data-dir", dataDir, "--monitor-max-nodes", String(MAX_NODES)],
    /goms admin on/,
    { GOMS_ADMIN_PASSWORD: password },
  );
  const pid = admin.p.pid!;

  // Warm up the paths the attack takes (connections, decoding, the store), then take the baseline.
  for (let i = 0; i < 3; i++) assert.equal(await pushAs({ name: `warm-${i}`, port: np, token, stats: statsOf(1024, 1, `w${i}`) }), undefined);
  const base = rssBytes(pid);

  // Pushes of ~0.9 MiB, each under a new node name: all refused, nothing kept. In two halves, to see that the second adds little.
  const half = BIG_PUSHES / 2;
  const bigPush = (i: number): ReturnType<typeof pushAs> => pushAs({ name: `big-${i}`, port: np, token, stats: statsOf(0.9 * MiB, 8, `b${i}-`) });
  const big = await pool(half, 5, bigPush);
  const afterFirstHalf = rssBytes(pid);
  big.push(...(await pool(half, 5, (i) => bigPush(half + i))));
  for (const e of big) {
    assert.equal(e?.code, Code.ResourceExhausted, String(e));
    assert.match(e.message, /stats of node big-\d+ refused: \d+ bytes, at most 131072 per push/);
  }
  const secondHalf = rssBytes(pid) - afterFirstHalf;
  t.diagnostic(`after the big pushes: +${((afterFirstHalf - base) / MiB).toFixed(1)} MiB after ${half}, +${(secondHalf / MiB).toFixed(1)} MiB more after ${BIG_PUSHES}`);
  assert.ok(secondHalf < MAX_SECOND_HALF_GROWTH, `the second ${half} big pushes grew RSS by ${(secondHalf / MiB).toFixed(1)} MiB: something is kept`);
  // ~50 KiB pushes (under the size limit) under new names: accepted up to the node cap, then refused.
  const medium = await pool(60, 5, (i) => pushAs({ name: `med-${i}`, port: np, token, stats: statsOf(50 * 1024, 4, `m${i}-`) }));
  const accepted = medium.filter((e) => e === undefined).length;
  assert.equal(accepted, MAX_NODES - 3);
  for (const e of medium.filter((x) => x !== undefined)) {
    assert.equal(e.code, Code.ResourceExhausted, String(e));
    assert.match(e.message, new RegExp(`stats of node med-\\d+ refused: the monitor store already tracks its limit of ${MAX_NODES} nodes`));
  }
  const nodes = await (await consoleNodes(`http://127.0.0.1:${ap}`, "admin", password))();
  assert.equal(nodes.filter((n) => n.monitored).length, MAX_NODES);
  assert.ok(!nodes.some((n) => n.name.startsWith("big-")));

  const growth = rssBytes(pid) - base;
  t.diagnostic(`admin RSS ${(base / MiB).toFixed(0)} MiB -> +${(growth / MiB).toFixed(1)} MiB after ${BIG_PUSHES} x 0.9 MiB and 60 x 50 KiB pushes (bound ${MAX_GROWTH / MiB} MiB)`);
  assert.ok(growth < MAX_GROWTH, `RSS grew ${(growth / MiB).toFixed(1)} MiB`);
});
