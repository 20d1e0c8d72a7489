import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code } from "../../src/errors/index.js";
import { GomsError } from "../../src/errors/index.js";
import type { GomsNode, HandlerContext, NodeLimitsOptions } from "../../src/rpc/index.js";
import { IdempotentStream, StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, until } from "../helpers.js";
import { expectEndsWith } from "./fixture.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

/** Gates the test opens by key ("<node>:open", "<node>:more"); handlers wait at them. */
class Gates {
  private readonly gates = new Map<string, { p: Promise<void>; open: () => void }>();
  private get(key: string): { p: Promise<void>; open: () => void } {
    let g = this.gates.get(key);
    if (g === undefined) {
      let open!: () => void;
      const p = new Promise<void>((r) => (open = r));
      this.gates.set(key, (g = { p, open }));
    }
    return g;
  }
  wait(key: string): Promise<void> {
    return this.get(key).p;
  }
  open(key: string): void {
    this.get(key).open();
  }
}

interface Cluster {
  client: GomsNode;
  servers: Map<string, GomsNode>;
  /** The nodes streams were opened on, in order. */
  opened: string[];
  gates: Gates;
}

/**
 * Two nodes serving the same server streams over TCP, and a client dialling
 * both. Each handler records its node, waits at "<node>:open", yields one
 * message (n = the node's index), waits at "<node>:more", yields the rest and
 * sets ret 40 + index.
 */
async function cluster(limits: Record<string, NodeLimitsOptions> = {}): Promise<Cluster> {
  const opened: string[] = [];
  const gates = new Gates();
  const servers = new Map<string, GomsNode>();
  for (const [i, name] of ["s1", "s2"].entries()) {
    async function* stream(count: number, ctx: HandlerContext): AsyncGenerator<{ n: number }> {
      opened.push(name);
      await gates.wait(`${name}:open`);
      yield { n: i };
      await gates.wait(`${name}:more`);
      for (let k = 1; k < count; k++) yield { n: i };
      ctx.ret = 40 + i;
    }
    async function sum(reqs: AsyncIterable<{ n: number }>): Promise<{ total: bigint; messages: number }> {
      opened.push(name);
      let total = 0n;
      let messages = 0;
      for await (const r of reqs) {
        total += BigInt(r.n);
        messages++;
      }
      return { total, messages };
    }
    const options = { identity: { name }, listen: { port: 0 }, ...(limits[name] === undefined ? {} : { limits: limits[name] }) };
    const node = await nodes.start(options, (n) =>
      n.service(IdempotentStream, { watch: (req, ctx) => stream(req.count, ctx) }).service(StreamTest, { count: (req, ctx) => stream(req.count, ctx), sum }),
    );
    servers.set(name, node);
  }
  const client = await nodes.start({
    identity: { name: "retry-client" },
    peers: { addresses: [...servers.values()].map((s) => ({ host: "127.0.0.1", port: s.port })) },
  });
  return { client, servers, opened, gates };
}

const other = (name: string): string => (name === "s1" ? "s2" : "s1");

describe("retrying an idempotent server stream (TCP)", () => {
  it("a node that dies after the open but before the first message: the stream is retried on the other node", async () => {
    const { client, servers, opened, gates } = await cluster();
    const it = client.client(IdempotentStream).watch({ count: 3 })[Symbol.asyncIterator]();
    const first = it.next();
    await until(() => opened.length === 1, 5000, "the stream opened on a node");
    const victim = opened[0]!;
    await servers.get(victim)!.kill();
    await until(() => opened.length === 2, 5000, "the stream was opened again");
    assert.equal(opened[1], other(victim));
    gates.open(`${other(victim)}:open`);
    gates.open(`${other(victim)}:more`);
    const want = other(victim) === "s1" ? 0 : 1;
    assert.deepEqual(await first, { done: false, value: { $typeName: "goms.test.v1.Item", n: want, payload: new Uint8Array(), endRet: 0 } });
    let rest = 0;
    for (;;) {
      const r = await it.next();
      if (r.done === true) break;
      assert.equal(r.value.n, want);
      rest++;
    }
    assert.equal(rest, 2);
    assert.equal(client.stats().retries, 1);
  });

  it("a node that dies after the first message: unavailable, never retried", async () => {
    const { client, servers, opened, gates } = await cluster();
    gates.open("s1:open");
    gates.open("s2:open");
    const it = client.client(IdempotentStream).watch({ count: 3 })[Symbol.asyncIterator]();
    const r = await it.next();
    assert.equal(r.done, false);
    const victim = opened[0]!;
    await servers.get(victim)!.kill();
    await expectEndsWith(it, Code.Unavailable);
    assert.deepEqual(opened, [victim]);
    assert.equal(client.stats().retries, 0);
  });

  it("a server stream not declared idempotent is not retried", async () => {
    const { client, servers, opened } = await cluster();
    const it = client.client(StreamTest).count({ count: 3 })[Symbol.asyncIterator]();
    const first = it.next();
    await until(() => opened.length === 1, 5000, "the stream opened on a node");
    await servers.get(opened[0]!)!.kill();
    await assert.rejects(first, (e: unknown) => (e as { code?: unknown }).code === Code.Unavailable);
    assert.equal(opened.length, 1);
    assert.equal(client.stats().retries, 0);
  });

  it("retry: false turns it off; the detailed result carries the retried attempt's end", async () => {
    const { client, servers, opened, gates } = await cluster();
    const it = client.client(IdempotentStream).watch({ count: 1 }, { retry: false })[Symbol.asyncIterator]();
    const first = it.next();
    await until(() => opened.length === 1, 5000, "the stream opened on a node");
    const victim = opened[0]!;
    await servers.get(victim)!.kill();
    await assert.rejects(first, (e: unknown) => (e as { code?: unknown }).code === Code.Unavailable);
    assert.equal(opened.length, 1);
    // The survivor serves the next one; a clean end reaches detailedClient through the retry wrapper.
    gates.open(`${other(victim)}:open`);
    gates.open(`${other(victim)}:more`);
    const s = client.detailedClient(IdempotentStream).watch({ count: 2 });
    let n = 0;
    for await (const _ of s.messages) n++;
    assert.equal(n, 2);
    assert.equal(s.ret, other(victim) === "s1" ? 40 : 41);
  });
});

/** s1 takes one call at a time (adaptive limit pinned to 1): past it, it refuses with the retry-elsewhere hint. */
const ONE_AT_A_TIME: Record<string, NodeLimitsOptions> = { s1: { adaptiveConcurrency: { initialLimit: 1, minLimit: 1, maxLimit: 1 } } };

/** A cluster whose s1 is full: it holds one stream (pinned, waiting at "s1:open") and refuses the rest. */
async function fullS1(): Promise<Cluster & { release: () => Promise<void> }> {
  const c = await cluster(ONE_AT_A_TIME);
  const held = c.client.client(StreamTest).count({ count: 1 }, { node: "s1" })[Symbol.asyncIterator]();
  const first = held.next();
  await until(() => c.opened.includes("s1"), 5000, "s1 to hold a stream");
  c.opened.length = 0;
  const release = async (): Promise<void> => {
    c.gates.open("s1:open");
    c.gates.open("s1:more");
    assert.equal((await first).done, false);
  };
  return { ...c, release };
}

describe("streams refused at open with the retry-elsewhere hint (TCP)", () => {
  it("a load-balanced server stream (not idempotent) refused by a full node is retried on the other and succeeds", async () => {
    const { client, servers, opened, gates, release } = await fullS1();
    gates.open("s2:open");
    gates.open("s2:more");
    // Round-robin: of two streams opened one after the other, one is placed on s1 first.
    for (let k = 0; k < 2; k++) {
      const s = client.detailedClient(StreamTest).count({ count: 2 });
      const got: number[] = [];
      for await (const m of s.messages) got.push(m.n);
      assert.deepEqual(got, [1, 1], "every message came from s2");
      assert.equal(s.ret, 41);
    }
    assert.deepEqual(opened, ["s2", "s2"], "no handler ran on s1");
    const refused = servers.get("s1")!.stats().admission.refusedLimit;
    assert.ok(refused >= 1, "s1 refused a stream");
    assert.equal(client.stats().retries, refused, "each refusal was retried on s2");
    await release();
  });

  it("a client stream refused by a full node is not retried: resource_exhausted with the hint's reason", async () => {
    const { client, servers, opened, release } = await fullS1();
    async function* numbers() {
      for (let i = 1; i <= 3; i++) yield { n: i };
    }
    const outcomes: string[] = [];
    for (let k = 0; k < 2; k++) {
      await client
        .client(StreamTest)
        .sum(numbers())
        .then(
          (r) => outcomes.push(`ok ${r.total}`),
          (e: unknown) => outcomes.push(GomsError.is(e) ? `${e.code === Code.ResourceExhausted ? "resource_exhausted" : e.code} ${e.reason}` : String(e)),
        );
    }
    assert.deepEqual(outcomes.sort(), ["ok 6", "resource_exhausted GOMS_ERR_OVERLOADED"]);
    assert.deepEqual(opened, ["s2"]);
    assert.equal(servers.get("s1")!.stats().admission.refusedLimit, 1);
    assert.equal(client.stats().retries, 0);
    await release();
  });
});
