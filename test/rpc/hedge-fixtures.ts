// Fixtures of the hedge tests: servers whose handlers wait a set time (or
// forever), and a caller of them, on the nodes of one NodeSet.
import type { GomsNode, HandlerContext } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import type { HedgeStats } from "../../src/gen/goms/v1/monitor_pb.js";
import type { NodeSummary } from "../../src/admin/api-types.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { BenchService } from "../../bench/gen/goms/bench/v1/bench_pb.js";
import { until, withNodeOptions, type NodeOptionsPatch, type NodeSet } from "../helpers.js";
import { countersSeen as seenBy, monitorAdmin as adminNode, type Exposition, type MonitorAdmin } from "../monitor/counters-seen.js";

/** A server whose handlers wait `delayMs` (or forever, -1), counting calls and cancellations. */
export interface Server {
  node: GomsNode;
  delayMs: number;
  queries: number;
  echoes: number;
  aborted: number;
}

function wait(s: Server, ctx: HandlerContext): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = s.delayMs < 0 ? undefined : setTimeout(resolve, s.delayMs);
    ctx.signal.addEventListener("abort", () => {
      s.aborted++;
      clearTimeout(t);
      reject(new GomsError("cancelled", Code.Canceled));
    });
  });
}

export function hedgeFixtures(nodes: NodeSet) {
  async function server(name: string, delayMs: number): Promise<Server> {
    const s: Server = { node: undefined as unknown as GomsNode, delayMs, queries: 0, echoes: 0, aborted: 0 };
    s.node = await nodes.start({ identity: { name }, listen: { port: 0 }, limits: { adaptiveConcurrency: false } }, (n) => {
      n.service(DB, {
        async query(_req, ctx) {
          s.queries++;
          await wait(s, ctx);
          ctx.responseMetadata["x-node"] = name;
          return { value: name };
        },
      });
      n.service(BenchService, {
        async echo(req, ctx) {
          s.echoes++;
          await wait(s, ctx);
          return req;
        },
      });
    });
    return s;
  }

  /** A caller of `servers`, hedging after 30 ms, outlier detection off (over `extra`). */
  async function caller(servers: readonly { node: GomsNode }[], extra: NodeOptionsPatch = {}): Promise<GomsNode> {
    const c = await nodes.start(
      withNodeOptions(
        {
          identity: { name: "caller" },
          peers: { addresses: servers.map((s) => ({ host: "127.0.0.1", port: s.node.port })) },
          calls: { hedge: { afterMs: 30 }, outlierDetection: false },
        },
        extra,
      ),
    );
    await until(() => c.stats().peersReady === servers.length, 5000, "peers ready");
    return c;
  }

  /** Two calls at once: round-robin sends one to each server. Returns who answered each. */
  async function twoQueries(c: GomsNode, options: { hedge?: { afterMs: number } | false } = {}): Promise<string[]> {
    const db = c.client(DB);
    const rs = await Promise.all([db.query({ key: "a" }, { timeoutMs: 5000, ...options }), db.query({ key: "b" }, { timeoutMs: 5000, ...options })]);
    return rs.map((r) => r.value).sort();
  }

  function sentWon(c: GomsNode): { sent: number; won: number } {
    const { sent, won } = c.stats().hedges;
    return { sent, won };
  }

  /** An admin node hosting a monitor store (no DB): a caller given `{ node: admin }` among its servers pushes to it. */
  const monitorAdmin = (): Promise<MonitorAdmin> => adminNode(nodes);

  /**
   * The caller's hedge counters as they reach the admin node's store (one
   * push), its console summary and the caller's Prometheus /metrics.
   */
  async function countersSeen(c: GomsNode, at: MonitorAdmin): Promise<{ pushed: HedgeStats; summary: NodeSummary["hedges"]; metrics: Exposition }> {
    const seen = await seenBy(nodes, c, at);
    return { pushed: seen.pushed.hedges!, summary: seen.summary?.hedges, metrics: seen.metrics };
  }

  return { server, caller, twoQueries, sentWon, monitorAdmin, countersSeen };
}
