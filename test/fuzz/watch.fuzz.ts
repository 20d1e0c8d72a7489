// The watch protocol messages: random and mutated request bytes and JSON go
// through the server's request path (decode as the connection does, then the
// WatchService handler, then encode the answer) without sockets. Every case ends
// in a clean error (a decode error, which the connection answers as
// GOMS_ERR_BAD_PAYLOAD, or a GomsError from the handler) or an answer that
// encodes. Answers decoded from random bytes go through the client's conversions.
// The Watch stream goes through the same path with a stand-in for the
// connection's stream: its first message is checked like an answer, then the
// stream ends as if the caller had gone away.
import fc from "fast-check";
import assert from "node:assert/strict";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, GomsError } from "../../src/errors/index.js";
import { WatchService } from "../../src/gen/goms/v1/watch_pb.js";
import { getCodec } from "../../src/codec/index.js";
import { ServerCall } from "../../src/internal/conn/server-call.js";
import { PayloadCodec } from "../../src/internal/wire/frame.js";
import { ServiceTable } from "../../src/rpc/services.js";
import { createStore, type WatchStore } from "../../src/kv/store.js";
import { defaultPollLimits, Poller } from "../../src/watch/poll.js";
import { watchServiceImpl } from "../../src/watch/service.js";
import { wireToEntry, wireToKvEvent } from "../../src/watch/wire.js";
import type { ServerMethod } from "../../src/internal/conn/dispatcher.js";
import type { StreamIO } from "../../src/internal/conn/stream-driver.js";
import type { FuzzTarget } from "./target.js";

const METHODS: readonly DescMethod[] = WatchService.methods;
/** Cases per store: keeps a million-case run's memory flat. */
const CASES_PER_STORE = 2000;

interface Env {
  store: WatchStore;
  poller: Poller;
  table: ServiceTable;
  cases: number;
}

function makeEnv(): Env {
  const store = createStore({
    leaseCheckIntervalMs: 0,
    historySize: 64,
    limits: { maxKeyBytes: 64, maxValueBytes: 64, historyBytes: 4096, maxLeases: 32, maxLeasesPerClient: 8 },
  });
  // Polls answer at once: a fuzz case never parks.
  const poller = new Poller(store, { ...defaultPollLimits, maxWaitMs: 0 });
  const table = new ServiceTable([]);
  table.add(WatchService, watchServiceImpl(store, poller) as unknown as Record<string, unknown>, {});
  return { store, poller, table, cases: 0 };
}

/** One request as the connection would see it: proto bytes or JSON text. */
type Input = { readonly wire: "proto"; readonly bytes: Uint8Array } | { readonly wire: "json"; readonly text: string };

const text = fc.string({ maxLength: 80 });
const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 50n }));
/** A valid message of any method's input, with random field values, as bytes. */
function validBytes(method: DescMethod): fc.Arbitrary<Uint8Array> {
  const codec = getCodec(method.input);
  return fc
    .record({
      key: text,
      prefix: text,
      field: text,
      value: fc.uint8Array({ maxLength: 100 }),
      lease: fc.oneof(fc.constant("0"), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String)),
      n: int64,
      ttlMs: int64,
      prevRevision: fc.option(int64, { nil: undefined }),
      fromRevision: int64,
      maxEvents: fc.nat(),
      waitMs: fc.nat(5),
      maxBytes: fc.nat(),
    })
    .map((f) => {
      const init: Record<string, unknown> = {};
      for (const fd of method.input.fields) if (fd.localName in f) init[fd.localName] = f[fd.localName as keyof typeof f];
      if (method.name === "Poll" || method.name === "Watch") init["filter"] = { case: "prefix", value: f.prefix };
      try {
        return codec.encode(init as never);
      } catch {
        return new Uint8Array(0); // a value the field cannot hold: the empty message then
      }
    });
}

/** Bytes with some positions overwritten, cut or extended. */
function mutated(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(200)).map(([b, edits, cut]) => {
    const out = new Uint8Array(b);
    for (const [i, v] of edits) if (out.length > 0) out[i % out.length] = v;
    return out.subarray(0, Math.min(out.length, cut + 1));
  });
}

const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), text, fc.integer(), fc.constant("9007199254740993"), fc.constant(null));
function jsonText(method: DescMethod): fc.Arbitrary<string> {
  const names = method.input.fields.map((f) => f.jsonName).concat(["prefix", "key", "__proto__", "filter"]);
  return fc.oneof(
    fc.dictionary(fc.constantFrom(...names), jsonValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
    fc.json({ maxDepth: 2 }),
    fc.string({ maxLength: 60 }),
  );
}

/** Per method, built once: a request of that method in one of four shapes. */
const perMethod = METHODS.map((m) =>
  fc.tuple(
    fc.constant(m),
    fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((bytes): Input => ({ wire: "proto", bytes })),
      validBytes(m).map((bytes): Input => ({ wire: "proto", bytes })),
      mutated(validBytes(m)).map((bytes): Input => ({ wire: "proto", bytes })),
      jsonText(m).map((t): Input => ({ wire: "json", text: t })),
    ),
  ),
);
const caseArb = fc.integer({ min: 0, max: METHODS.length - 1 }).chain((i) => perMethod[i]!);

function decode(entry: ServerMethod, input: Input): { ok: true; req: unknown } | { ok: false } {
  try {
    const req = input.wire === "proto" ? entry.input.decode(Buffer.from(input.bytes), 0, input.bytes.length) : entry.json.fromJson(input.text);
    return { ok: true, req };
  } catch {
    return { ok: false }; // answered as GOMS_ERR_BAD_PAYLOAD by the connection
  }
}

async function serve(env: Env, method: DescMethod, input: Input): Promise<void> {
  const entry = env.table.lookup(`${WatchService.typeName}/${method.name}`);
  assert.ok(entry !== undefined);
  const decoded = decode(entry, input);
  if (!decoded.ok) return;
  const wire = input.wire === "proto" ? PayloadCodec.Proto : PayloadCodec.Json;
  const call = new ServerCall(1, WatchService, method, 0, {}, { address: "127.0.0.1:40000", node: undefined, local: false }, false, wire, performance.now());
  const sent: unknown[] = [];
  if (method.methodKind === "server_streaming") call.stream = firstMessageOnly(decoded.req, sent);
  let res: unknown;
  try {
    res = await entry.invoke(decoded.req, call);
  } catch (e) {
    if (e === CALLER_GONE) res = sent[0];
    else {
      assert.ok(GomsError.is(e), `${method.name} threw a non-GomsError: ${String(e)}`);
      return;
    }
  }
  // The answer encodes on both payload codecs, and the client's conversions accept it.
  const bytes = entry.output.encode((res ?? {}) as never);
  entry.json.toJson(res ?? {});
  clientSide(method, bytes);
}

const CALLER_GONE = new GomsError("the fuzz caller took one message", Code.Canceled);

/** A server stream's two directions for one request: takes the first message, then fails every send. */
function firstMessageOnly(req: unknown, sent: unknown[]): StreamIO {
  return {
    kind: "server_streaming",
    input: (async function* () {
      yield await Promise.resolve(req);
    })(),
    send(message) {
      sent.push(message);
      return Promise.reject(CALLER_GONE);
    },
    stop: () => undefined,
  };
}

/** What the client does with an answer: decode, then convert keys and events. */
function clientSide(method: DescMethod, bytes: Uint8Array): void {
  let msg: unknown;
  try {
    msg = getCodec(method.output).decode(bytes);
  } catch {
    return; // the client reports GOMS_ERR_BAD_RESPONSE
  }
  const m = msg as { kv?: Parameters<typeof wireToEntry>[0]; kvs?: Parameters<typeof wireToEntry>[0][]; events?: Parameters<typeof wireToKvEvent>[0][] };
  if (method.name === "Get" && m.kv !== undefined) wireToEntry(m.kv);
  if (method.name === "Range") m.kvs?.forEach(wireToEntry);
  if (method.name === "Poll" || method.name === "Watch") m.events?.forEach(wireToKvEvent);
}

export const watchTargets: FuzzTarget[] = [
  {
    name: "watch-messages",
    async check(runs) {
      let env = makeEnv();
      try {
        await fc.assert(
          fc.asyncProperty(caseArb, fc.uint8Array({ maxLength: 120 }), async ([method, input], answer) => {
            if (++env.cases > CASES_PER_STORE) {
              env.poller.close();
              env.store.close();
              env = makeEnv();
            }
            await serve(env, method, input);
            clientSide(method, answer);
            assert.ok(env.store.leaseStats.leases <= 32);
            assert.ok(env.store.history.bytes <= 4096 || env.store.history.length === 1);
          }),
          { numRuns: runs },
        );
      } finally {
        env.poller.close();
        env.store.close();
      }
    },
  },
];
