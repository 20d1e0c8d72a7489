import assert from "node:assert/strict";
import diagnostics_channel from "node:diagnostics_channel";
import { afterEach, describe, it } from "node:test";
import { type CallEvent } from "../../src/rpc/index.js";
import { Code } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { NodeSet, until } from "../helpers.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

describe("server diagnostics for canceled calls", () => {
  it("a call canceled by the client (CANCEL frame) is published with code canceled", async () => {
    const events: CallEvent[] = [];
    const onServer = (m: unknown): void => {
      const ev = m as CallEvent;
      if (ev.node === "cancel-s") events.push(ev);
    };
    diagnostics_channel.subscribe("goms:rpc:server", onServer);
    try {
      let started = 0;
      const s = await nodes.start({ identity: { name: "cancel-s" }, listen: { port: 0 } }, (n) =>
        n.service(AddServer, {
          add(_req, ctx) {
            started++;
            // Never answers: only the CANCEL frame ends the call.
            return new Promise(() => void ctx.signal);
          },
        }),
      );
      const c = await nodes.start({ identity: { name: "cancel-c" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
      const ac = new AbortController();
      const p = c.client(AddServer).add({ a: 1 }, { signal: ac.signal });
      await until(() => started === 1, 2000, "handler start");
      ac.abort();
      await assert.rejects(p);
      await until(() => events.length === 1, 2000, "server event for the canceled call");
      const ev = events[0]!;
      assert.equal(ev.code, Code.Canceled);
      assert.equal(ev.service, "goms.examples.v1.AddServer");
      assert.equal(ev.method, "Add");
      assert.ok(ev.durationMs > 0);
    } finally {
      diagnostics_channel.unsubscribe("goms:rpc:server", onServer);
    }
  });
});
