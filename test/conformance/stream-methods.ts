import { create, createFileRegistry, fromBinary, toBinary, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { DescriptorsRequestSchema, DescriptorsResponseSchema } from "../../src/gen/goms/v1/node_pb.js";
import { skipCase, type CaseContext } from "./case.js";
import { DESCRIPTORS, decodeStatus } from "./frames.js";
import { decode, encode } from "./raw-conn.js";

/** A stream method of the node under test, as its descriptors describe it. */
export interface StreamMethod {
  /** "package.Service/Method", as STREAM_OPEN names it. */
  path: string;
  kind: "server_streaming" | "client_streaming" | "bidi_streaming";
  input: DescMessage;
  output: DescMessage;
}

/** Field 2^29 − 1, length-delimited: unknown to any message that does not use the highest field number. */
const PAD_TAG = Buffer.from([0xfa, 0xff, 0xff, 0xff, 0x0f]);
const MAX_FIELD = 536_870_911;

const found = new Map<string, Promise<StreamMethod[]>>();

/**
 * The node's public stream methods, from NodeService/Descriptors (§14.4):
 * the suite knows nothing of the node's services beforehand. Asked once per
 * target, on a connection of its own.
 */
export function streamMethods(ctx: CaseContext): Promise<StreamMethod[]> {
  const key = `${ctx.target.host}:${ctx.target.port}`;
  let p = found.get(key);
  if (p === undefined) {
    p = discover(ctx);
    found.set(key, p);
    // A failed discovery is not cached: the next case asks again (and fails with its reason).
    p.catch(() => found.delete(key));
  }
  return p;
}

async function discover(ctx: CaseContext): Promise<StreamMethod[]> {
  const { conn } = await ctx.handshake();
  const r = await conn.call(1, { method: DESCRIPTORS, payload: encode(DescriptorsRequestSchema, { services: [] }) });
  if (r.status !== 0) throw new Error(`NodeService/Descriptors failed with status ${r.status}: ${decodeStatus(r.payload).message}`);
  const set = decode(DescriptorsResponseSchema, r.payload).files;
  if (set === undefined) throw new Error("NodeService/Descriptors answered without files");
  const out: StreamMethod[] = [];
  for (const t of createFileRegistry(set)) {
    if (t.kind !== "service") continue;
    for (const m of t.methods as DescMethod[]) {
      if (m.methodKind === "unary") continue;
      out.push({ path: `${t.typeName}/${m.name}`, kind: m.methodKind, input: m.input, output: m.output });
    }
  }
  return out;
}

/**
 * The first of the node's stream methods of one of `kinds` (in that order of
 * preference); skips the case, saying why, when the node has none.
 */
export async function streamMethod(ctx: CaseContext, ...kinds: StreamMethod["kind"][]): Promise<StreamMethod> {
  const all = await streamMethods(ctx);
  for (const k of kinds) {
    const m = all.find((x) => x.kind === k);
    if (m !== undefined) return m;
  }
  const have = all.length === 0 ? "no public stream method" : `only ${all.map((m) => `${m.path} (${m.kind})`).join(", ")}`;
  return skipCase(`the node hosts no public ${kinds.map((k) => k.replace("_", "-")).join(" or ")} method (NodeService/Descriptors lists ${have})`);
}

/** The method's empty request: valid for any proto3 message, so the suite needs to know nothing of its fields. */
export function emptyRequest(m: StreamMethod): Buffer {
  return Buffer.from(toBinary(m.input, create(m.input)));
}

/** A valid request message of about `bytes` bytes: the empty request plus one unknown length-delimited field. */
export function paddedRequest(m: StreamMethod, bytes: number): Buffer {
  if (m.input.fields.some((f) => f.number === MAX_FIELD)) skipCase(`${m.input.typeName} uses field ${MAX_FIELD}, which the suite pads requests with`);
  const len: number[] = [];
  for (let n = bytes; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([emptyRequest(m), PAD_TAG, Buffer.from(len), Buffer.alloc(bytes, 0x61)]);
}

/** Decodes a whole response message; throws when it is not one of the method's output type. */
export function decodeOutput(m: StreamMethod, bytes: Buffer): void {
  try {
    fromBinary(m.output, bytes);
  } catch (e) {
    throw new Error(`a ${m.path} message does not decode as ${m.output.typeName}: ${(e as Error).message}`);
  }
}

