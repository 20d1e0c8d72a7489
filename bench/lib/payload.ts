/**
 * The 581-byte BenchmarkMessage (rpcx-benchmark and others), built three ways:
 * as a @bufbuild/protobuf message, as its protobuf bytes, and as the plain JSON
 * object that JSON-based peers (Moleculer, Nest) send.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { BenchmarkMessageSchema, type BenchmarkMessage } from "../gen/goms/bench/v1/bench_pb.js";

/** 18 CJK characters, 54 UTF-8 bytes. */
export const BENCH_STRING = "许多往事在眼前一幕一幕，变的那麽模糊";
export const BENCH_PROTO_BYTES = 581;
export const BENCH_JSON_BYTES = 1050;

const STRING_FIELDS = ["field1", "field4", "field7", "field9", "field18", "field102", "field103", "field129"] as const;
const INT32_FIELDS = [
  "field2", "field3", "field6", "field16", "field23", "field25", "field29", "field60", "field67", "field68",
  "field100", "field101", "field104", "field128", "field130", "field131", "field150", "field271", "field272", "field280",
] as const;
const BOOL_FIELDS = [
  "field12", "field13", "field14", "field17", "field24", "field30", "field59", "field78", "field80", "field81",
] as const;

type StringField = (typeof STRING_FIELDS)[number];
type Int32Field = (typeof INT32_FIELDS)[number];
type BoolField = (typeof BOOL_FIELDS)[number];

/** Plain JSON shape: field22 is a number, the empty repeated field5 is left out (1050 B). */
export type BenchJson = { [K in StringField]: string } & { [K in Int32Field]: number } & { [K in BoolField]: boolean } & {
  field22: number;
};

export function makeBenchJson(): BenchJson {
  const o: Record<string, string | number | boolean> = {};
  for (const f of STRING_FIELDS) o[f] = BENCH_STRING;
  for (const f of INT32_FIELDS) o[f] = 100000;
  o["field22"] = 100000;
  for (const f of BOOL_FIELDS) o[f] = true;
  return o as BenchJson;
}

export function makeBenchMessage(): BenchmarkMessage {
  const j = makeBenchJson();
  return create(BenchmarkMessageSchema, { ...j, field22: BigInt(j.field22), field5: [] });
}

export function benchBinary(): Uint8Array {
  return toBinary(BenchmarkMessageSchema, makeBenchMessage());
}

/** Throws unless the payload has the sizes the anchors were measured with. */
export function assertPayloadSizes(): void {
  const bin = benchBinary().length;
  if (bin !== BENCH_PROTO_BYTES) throw new Error(`BenchmarkMessage encodes to ${bin} B, expected ${BENCH_PROTO_BYTES}`);
  const json = Buffer.byteLength(JSON.stringify(makeBenchJson()));
  if (json !== BENCH_JSON_BYTES) throw new Error(`BenchmarkMessage JSON is ${json} B, expected ${BENCH_JSON_BYTES}`);
}

/** Server-side echo for JSON-shaped peers. */
export function echoJson<T extends { field1: string; field2: number }>(req: T): T {
  req.field1 = "OK";
  req.field2 = 100;
  return req;
}

/** Sanity check on a target's first response: the server must have applied the echo edits. */
export function checkEchoResponse(target: string, res: unknown): void {
  const r = typeof res === "object" && res !== null ? (res as Record<string, unknown>) : undefined;
  if (r === undefined || r["field1"] !== "OK" || r["field2"] !== 100 || r["field9"] !== BENCH_STRING) {
    throw new Error(`${target}: echo response is not the edited BenchmarkMessage: ${JSON.stringify(res)?.slice(0, 200)}`);
  }
}

/** What the stream suite's servers send: the benchmark message with the echo edits, so checkEchoResponse accepts it. */
export function makeStreamedMessage(): BenchmarkMessage {
  const m = makeBenchMessage();
  m.field1 = "OK";
  m.field2 = 100;
  return m;
}

/**
 * The stream suite's BenchService.Stream handler (goms targets): the streamed
 * message `req.count` times, 0 meaning until the caller cancels, calling
 * `onMessage` for each so that the server can report how many it produced.
 * The same message object is encoded again for every yield.
 */
export async function* streamMessages(req: { count: bigint }, onMessage: () => void): AsyncGenerator<BenchmarkMessage> {
  const msg = makeStreamedMessage();
  // A plain number loop, as the grpc-js target's (a BigInt counter allocates per message).
  const n = Number(req.count);
  for (let i = 0; n === 0 || i < n; i++) {
    onMessage();
    yield msg;
  }
}

/**
 * streamMessages as a synchronous generator (the goms-sync row): what a
 * handler whose messages are at hand may return, sent without a promise per
 * message.
 */
export function* streamMessagesSync(req: { count: bigint }, onMessage: () => void): Generator<BenchmarkMessage> {
  const msg = makeStreamedMessage();
  const n = Number(req.count);
  for (let i = 0; n === 0 || i < n; i++) {
    onMessage();
    yield msg;
  }
}

/** Sanity check on a short server stream (asked for `count` messages) before a target is measured. */
export function checkStreamResponse(target: string, messages: readonly unknown[], count: number): void {
  if (messages.length !== count) throw new Error(`${target}: a stream of ${count} messages delivered ${messages.length}`);
  for (const m of messages) checkEchoResponse(target, m);
}
