import { NodeSet, withNodeOptions, type NodeOptionsPatch } from "../helpers.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import assert from "node:assert/strict";
import type { GomsNode, HandlerContext, ServiceImpl } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";

/** What the stream handlers did, for assertions by count (never by time). */
export interface Probe {
  produced: number;
  finallyRan: number;
  aborted: number;
  received: number;
}

export function newProbe(): Probe {
  return { produced: 0, finallyRan: 0, aborted: 0, received: 0 };
}

/** The trailing metadata a handler sends on a clean end when asked (end_ret). */
export const END_TRAILER = { "x-end": "done" };

/** `end_ret` of the requests: a clean end carries it as ctx.ret, with END_TRAILER. */
function endWith(ctx: HandlerContext, endRet: number): void {
  if (endRet === 0) return;
  ctx.ret = endRet;
  Object.assign(ctx.responseMetadata, END_TRAILER);
}

/** StreamTest handlers that record what happened in `probe`. */
export function streamImpl(probe: Probe): ServiceImpl<typeof StreamTest> {
  return {
    async *count(req, ctx) {
      ctx.signal.addEventListener("abort", () => probe.aborted++);
      try {
        for (let i = 0; i < req.count; i++) {
          if (req.failAfter > 0 && i === req.failAfter) {
            ctx.ret = 77;
            // The error carries the trailer too (end_ret asks for it).
            if (req.endRet !== 0) Object.assign(ctx.responseMetadata, END_TRAILER);
            throw new GomsError("failed on purpose", Code.FailedPrecondition);
          }
          probe.produced++;
          yield { n: i, payload: new Uint8Array(req.size) };
        }
        endWith(ctx, req.endRet);
      } finally {
        probe.finallyRan++;
      }
    },
    async sum(reqs, ctx) {
      ctx.signal.addEventListener("abort", () => probe.aborted++);
      let total = 0n;
      let messages = 0;
      let endRet = 0;
      try {
        for await (const r of reqs) {
          probe.received++;
          total += BigInt(r.n);
          messages++;
          endRet ||= r.endRet;
        }
      } finally {
        probe.finallyRan++;
      }
      endWith(ctx, endRet);
      return { total, messages };
    },
    async *echo(reqs, ctx) {
      ctx.signal.addEventListener("abort", () => probe.aborted++);
      let endRet = 0;
      try {
        for await (const r of reqs) {
          probe.received++;
          probe.produced++;
          endRet ||= r.endRet;
          yield r;
        }
        endWith(ctx, endRet);
      } finally {
        probe.finallyRan++;
      }
    },
  };
}

/** A server node hosting StreamTest and a client node dialling it, over real TCP. */
export async function pair(nodes: NodeSet, probe: Probe, patch: NodeOptionsPatch = {}): Promise<{ server: GomsNode; client: GomsNode }> {
  const server = await nodes.start(withNodeOptions({ identity: { name: "stream-server" }, listen: { port: 0 } }, patch), (n) => n.service(StreamTest, streamImpl(probe)));
  const client = await nodes.start(withNodeOptions({ identity: { name: "stream-client" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } }, patch));
  return { server, client };
}

/** Reads `it` to its end and expects the end to be a GomsError with `code`. */
export async function expectEndsWith(it: AsyncIterator<unknown>, code: Code): Promise<void> {
  await assert.rejects(
    (async () => {
      for (;;) if ((await it.next()).done === true) break;
    })(),
    (e: unknown) => GomsError.is(e) && e.code === code,
  );
}
