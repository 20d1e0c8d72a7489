// The client survives a misbehaving server, and timed-out calls leave nothing behind.
import assert from "node:assert/strict";
import net from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { type GomsNode } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { FrameType } from "../../src/internal/wire/frame.js";
import {
  eventually,
  frame,
  helloFrame,
  HOST,
  isCodeError,
  preface,
  RawPeer,
  serverStats,
  sleep,
  startClient,
  startTarget,
  type Frame,
} from "./bad-input-kit.js";

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};
before(() => process.on("unhandledRejection", onUnhandled));
after(() => {
  process.off("unhandledRejection", onUnhandled);
  RawPeer.destroyAll();
});

/** Calls still pending in any of the node's client connections. */
function clientInflight(node: GomsNode): number {
  let n = 0;
  n += node.stats().outgoingCalls;
  return n;
}

/** Body of a RESPONSE frame: status, codec, ret, mdLen, metadata, payload. */
function responseBody(status: number, payload: Uint8Array, md: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.alloc(6 + md.length + payload.length);
  b[0] = status;
  b.writeUInt16BE(md.length, 4);
  b.set(md, 6);
  b.set(payload, 6 + md.length);
  return b;
}

type Script = (peer: RawPeer, request: Frame) => void;

interface Fake {
  port: number;
  /** Every connection the client opened. */
  peers: RawPeer[];
  close(): Promise<void>;
}

/**
 * A fake goms server written by hand: completes the handshake correctly
 * (announcing AddServer), then runs `script` for every REQUEST it receives.
 */
async function fakeServer(script: Script, handshake?: (peer: RawPeer) => void): Promise<Fake> {
  const peers: RawPeer[] = [];
  const server = net.createServer((socket) => {
    const peer = RawPeer.accepted(socket);
    peers.push(peer);
    peer.onFrame = (f) => {
      if (f.type === FrameType.Hello) {
        if (handshake) handshake(peer);
        else peer.send(Buffer.concat([preface(1, 0), helloFrame("fake", ["goms.examples.v1.AddServer"])]));
      } else if (f.type === FrameType.Request) {
        script(peer, f);
      }
    };
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    peers,
    close: async () => {
      for (const p of peers) p.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("10. a misbehaving server", () => {
  let fake: Fake | undefined;
  let client: GomsNode | undefined;

  afterEach(async () => {
    await client?.close({ graceMs: 0 });
    await fake?.close();
    client = fake = undefined;
    assert.deepEqual(unhandled, [], "no unhandled rejections");
  });

  /** Starts a fake server with `script`, a client connected to it, and fires 3 concurrent calls. */
  async function threeCalls(script: Script): Promise<PromiseSettledResult<unknown>[]> {
    fake = await fakeServer(script);
    client = await startClient(fake.port, "victim", { peers: { reconnect: { initialMs: 60_000, maxMs: 60_000 } } });
    const add = client.client(AddServer);
    const started = Date.now();
    const results = await Promise.allSettled([1, 2, 3].map((a) => add.add({ a, b: 1 }, { timeoutMs: 3000 })));
    assert.ok(Date.now() - started < 2000, "calls failed fast, not by their deadline");
    assert.equal(clientInflight(client), 0, "no pending call left behind");
    return results;
  }

  function rejections(results: PromiseSettledResult<unknown>[]): GomsError[] {
    return results.map((r) => {
      assert.equal(r.status, "rejected");
      const e = (r as PromiseRejectedResult).reason as unknown;
      assert.ok(GomsError.is(e), `not a GomsError: ${String(e)}`);
      return e;
    });
  }

  /** The client told the fake server why it hung up. */
  async function clientSentGoAway(message: RegExp): Promise<void> {
    const g = await fake!.peers[0]!.waitGoAway();
    assert.equal(g.code, Code.InvalidArgument);
    assert.match(g.message, message);
    await fake!.peers[0]!.waitClosed();
  }

  it("garbage bytes instead of a RESPONSE: every pending call fails Unavailable", async () => {
    const errs = rejections(await threeCalls((p) => p.send(Buffer.from([0, 0, 0, 2, 0xde, 0xad, 0xbe, 0xef]))));
    for (const e of errs) {
      assert.equal(e.code, Code.Unavailable, e.message);
      assert.match(e.message, /protocol error: frame length 2 is below the minimum of 6/);
    }
    await clientSentGoAway(/frame length 2 is below the minimum/);
  });

  it("a 4 GiB length prefix: refused at once, pending calls fail Unavailable", async () => {
    const errs = rejections(await threeCalls((p) => p.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0, 0, 1]))));
    for (const e of errs) {
      assert.equal(e.code, Code.Unavailable);
      assert.match(e.message, /frame length 4294967295 exceeds the limit of 16777216 bytes/);
    }
    await clientSentGoAway(/exceeds the limit/);
  });

  it("a RESPONSE for a call id the client never issued: protocol error, pending calls fail Unavailable", async () => {
    const errs = rejections(await threeCalls((p, req) => p.send(frame(FrameType.Response, 0, req.callId + 1000, responseBody(0, Uint8Array.of(0x08, 1))))));
    for (const e of errs) {
      assert.equal(e.code, Code.Unavailable);
      assert.match(e.message, /RESPONSE for call id \d+ that was never issued/);
    }
    await clientSentGoAway(/never issued/);
  });

  it("a late RESPONSE to a call that already timed out is ignored (not a protocol error)", async () => {
    fake = await fakeServer((p, req) => {
      const ok = frame(FrameType.Response, 0, req.callId, responseBody(0, Uint8Array.of(0x08, 7)));
      if (req.callId === 1) setTimeout(() => p.send(ok), 100);
      else p.send(ok);
    });
    client = await startClient(fake.port, "victim", { peers: { reconnect: { initialMs: 60_000, maxMs: 60_000 } } });
    const add = client.client(AddServer);
    await assert.rejects(add.add({ a: 1, b: 1 }, { timeoutMs: 30 }), isCodeError(Code.DeadlineExceeded));
    await fake.peers[0]!.waitFrame((f) => f.type === FrameType.Cancel && f.callId === 1);
    await sleep(150); // the late answer arrives
    assert.equal((await add.add({ a: 1, b: 1 })).sum, 7);
    assert.equal(fake.peers.length, 1, "same connection");
    assert.ok(!fake.peers[0]!.frames.some((f) => f.type === FrameType.GoAway));
  });

  it("a RESPONSE with call id 0: protocol error", async () => {
    const errs = rejections(await threeCalls((p) => p.send(frame(FrameType.Response, 0, 0, responseBody(0, new Uint8Array())))));
    for (const e of errs) assert.equal(e.code, Code.Unavailable);
    await clientSentGoAway(/call id 0/);
  });

  it("a RESPONSE shorter than its header: that call fails Internal, the others Unavailable", async () => {
    let first = true;
    const results = await threeCalls((p, req) => {
      if (!first) return;
      first = false;
      p.send(frame(FrameType.Response, 0, req.callId, Buffer.from([0, 0])));
    });
    const errs = rejections(results);
    const internal = errs.filter((e) => e.code === Code.Internal);
    assert.equal(internal.length, 1, errs.map((e) => e.message).join("; "));
    assert.match(internal[0]!.message, /malformed response: short RESPONSE header/);
    for (const e of errs.filter((x) => x !== internal[0])) assert.equal(e.code, Code.Unavailable, e.message);
    await clientSentGoAway(/short RESPONSE header/);
  });

  it("RESPONSE metadata past the frame end / malformed metadata: Internal, then the connection is dropped", async () => {
    for (const body of [responseBody(0, new Uint8Array()).fill(0xff, 4, 6), responseBody(0, new Uint8Array(), Uint8Array.of(0, 0, 0))]) {
      let first = true;
      const errs = rejections(
        await threeCalls((p, req) => {
          if (!first) return;
          first = false;
          p.send(frame(FrameType.Response, 0, req.callId, body));
        }),
      );
      assert.equal(errs.filter((e) => e.code === Code.Internal && /malformed response/.test(e.message)).length, 1);
      assert.equal(errs.filter((e) => e.code === Code.Unavailable).length, 2);
      await client!.close({ graceMs: 0 });
      await fake!.close();
    }
  });

  it("an undecodable payload or status fails only that call; the connection keeps working", async () => {
    fake = await fakeServer((p, req) => {
      const a = req.body[req.body.length - 3]; // AddRequest {a: 1..3, b: 1}: 08 a 10 01
      if (a === 1) p.send(frame(FrameType.Response, 0, req.callId, responseBody(0, Uint8Array.of(0xff, 0xff, 0xff))));
      else if (a === 2) p.send(frame(FrameType.Response, 0, req.callId, responseBody(Code.NotFound, Uint8Array.of(0x0f))));
      else if (a === 3) p.send(frame(FrameType.Response, 0, req.callId, responseBody(200, new Uint8Array())));
      else p.send(frame(FrameType.Response, 0, req.callId, responseBody(0, Uint8Array.of(0x08, 99))));
    });
    client = await startClient(fake.port, "victim", { peers: { reconnect: { initialMs: 60_000, maxMs: 60_000 } } });
    const add = client.client(AddServer);
    await assert.rejects(add.add({ a: 1, b: 1 }), isCodeError(Code.Internal, /undecodable response payload/));
    await assert.rejects(add.add({ a: 2, b: 1 }), isCodeError(Code.NotFound, /undecodable status/));
    await assert.rejects(add.add({ a: 3, b: 1 }), isCodeError(Code.Unknown));
    assert.equal((await add.add({ a: 4, b: 1 })).sum, 99, "same connection still answers");
    assert.equal(fake.peers.length, 1, "no reconnect was needed");
    assert.equal(clientInflight(client), 0);
  });

  it("a server that refuses every protocol version / sends a broken HELLO: calls fail Unavailable", async () => {
    for (const reply of [preface(0, 0), Buffer.concat([preface(1, 0), frame(FrameType.Hello, 0, 0, Buffer.from([0xff, 0xff]))])]) {
      fake = await fakeServer(
        () => assert.fail("no request expected"),
        (p) => p.send(reply),
      );
      client = await startClient(fake.port, "victim", { peers: { reconnect: { initialMs: 60_000, maxMs: 60_000 } } });
      await assert.rejects(client.client(AddServer).add({ a: 1, b: 1 }, { timeoutMs: 1000 }), isCodeError(Code.Unavailable));
      await fake.peers[0]!.waitClosed();
      await client.close({ graceMs: 0 });
      await fake.close();
    }
  });
});

describe("11. timeouts and cancellations leave nothing behind", () => {
  it("200 calls to a handler that never answers: DeadlineExceeded, empty pending map, server signals fired by CANCEL", async () => {
    const t = await startTarget();
    const client = await startClient(t.port);
    try {
      const N = 200;
      const add = client.client(AddServer);
      const results = await Promise.allSettled(Array.from({ length: N }, () => add.add({ a: 255, b: 0 }, { timeoutMs: 50 })));
      for (const r of results) {
        assert.equal(r.status, "rejected");
        assert.ok(isCodeError(Code.DeadlineExceeded, /deadline of 50ms exceeded/)((r as PromiseRejectedResult).reason));
      }
      assert.equal(clientInflight(client), 0, "client pending map is empty");
      // Only a CANCEL frame removes a call from the server's table while the connection stays up.
      await eventually(async () => (await serverStats(t)).callsInFlight === 0, 2000, "the server to drop the canceled calls");
      await eventually(() => t.aborts.length === N, 2000, "every ctx.signal to fire");
      assert.equal(t.hanging, 0);
      for (const e of t.aborts) assert.ok([Code.Canceled, Code.DeadlineExceeded].includes(e.code), e.message);
      assert.equal((await serverStats(t)).connections, 1, "the connection itself survived");
      assert.equal((await add.add({ a: 2, b: 3 })).sum, 5);
    } finally {
      await client.close({ graceMs: 0 });
      await t.close();
    }
  });

  it("aborted calls: Canceled, nothing pending, the server handlers see Canceled", async () => {
    const t = await startTarget();
    const client = await startClient(t.port);
    try {
      const N = 100;
      const ac = new AbortController();
      const add = client.client(AddServer);
      const calls = Array.from({ length: N }, () => add.add({ a: 255, b: 0 }, { timeoutMs: 0, signal: ac.signal }));
      await eventually(() => t.hanging === N, 2000, "all handlers to park");
      ac.abort();
      const results = await Promise.allSettled(calls);
      for (const r of results) assert.ok(isCodeError(Code.Canceled)((r as PromiseRejectedResult).reason));
      assert.equal(clientInflight(client), 0);
      await eventually(() => t.aborts.length === N, 2000, "every ctx.signal to fire");
      for (const e of t.aborts) assert.equal(e.code, Code.Canceled, e.message);
      assert.equal((await serverStats(t)).callsInFlight, 0);
      await sleep(10);
      assert.equal((await add.add({ a: 2, b: 3 })).sum, 5);
    } finally {
      await client.close({ graceMs: 0 });
      await t.close();
    }
  });
});
