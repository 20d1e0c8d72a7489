// The gateway's request decoding path (proto3 JSON body -> request message,
// the compiled JSON codec through goms/json-call's transcode) for real method
// descriptors: whatever the body, the outcome is a valid message or an error
// the gateway answers with a 4xx, never a crash or a 500.
import fc from "fast-check";
import assert from "node:assert/strict";
import { createRegistry, ScalarType, type DescField, type DescMessage, type DescMethod, type DescService, type Registry } from "@bufbuild/protobuf";
import { GomsError } from "../../src/errors/index.js";
import { httpStatus } from "../../src/internal/http/json.js";
import { jsonToMessage, messageToJson } from "../../src/json-call/transcode.js";
import { DB, file_goms_examples_v1_db } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { MonitorService, file_goms_v1_monitor } from "../../src/gen/goms/v1/monitor_pb.js";
import { WatchService, file_goms_v1_watch } from "../../src/gen/goms/v1/watch_pb.js";
import { BenchService, file_goms_bench_v1_bench } from "../../bench/gen/goms/bench/v1/bench_pb.js";
import type { FuzzTarget } from "./target.js";

// What the gateway's catalog holds for a route: the method and a registry of its file.
const ROUTES: { method: DescMethod; registry: Registry }[] = (
  [
    [DB, file_goms_examples_v1_db],
    [MonitorService, file_goms_v1_monitor],
    [WatchService, file_goms_v1_watch],
    [BenchService, file_goms_bench_v1_bench],
  ] as const
).flatMap(([svc, file]) => (svc as DescService).methods.map((method) => ({ method, registry: createRegistry(file) })));

/** JSON values shaped like a scalar field's proto3 JSON, plus wrong-typed and edge values. */
function scalarValue(t: ScalarType): fc.Arbitrary<unknown> {
  const edge = fc.constantFrom<unknown>(null, "", "NaN", "Infinity", "-Infinity", 1e300, -0, 1.5, "0x10", "1e3", " 1", "18446744073709551616", "-9223372036854775809", "4294967296", true, [], {});
  return fc.oneof({ weight: 12, arbitrary: wellTyped(t) }, { weight: 1, arbitrary: edge });
}

function wellTyped(t: ScalarType): fc.Arbitrary<unknown> {
  switch (t) {
    case ScalarType.STRING:
      return fc.oneof(fc.string(), fc.string({ unit: "binary" }));
    case ScalarType.BYTES:
      return fc.oneof(fc.base64String(), fc.string());
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.oneof(fc.double(), fc.double().map(String));
    default:
      return fc.oneof(fc.integer(), fc.bigInt().map(String), fc.maxSafeInteger());
  }
}

function fieldValue(f: DescField, depth: number): fc.Arbitrary<unknown> {
  const one = (): fc.Arbitrary<unknown> => {
    switch (f.fieldKind) {
      case "scalar":
        return scalarValue(f.scalar);
      case "enum":
        return fc.oneof(fc.constantFrom(...f.enum.values.map((v) => v.name)), fc.integer(), fc.string());
      case "message":
        return depth > 2 ? fc.constant({}) : messageValue(f.message, depth + 1);
      case "list":
        return fc.array(f.listKind === "scalar" ? scalarValue(f.scalar) : f.listKind === "enum" ? fc.string() : depth > 2 ? fc.constant({}) : messageValue(f.message, depth + 1), { maxLength: 4 });
      case "map":
        return fc.dictionary(fc.oneof(fc.string(), fc.integer().map(String), fc.constantFrom("true", "false")), f.mapKind === "scalar" ? scalarValue(f.scalar) : fc.jsonValue(), { maxKeys: 4 });
    }
  };
  return fc.oneof({ weight: 30, arbitrary: one() }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}

/** An object with the message's own field names (JSON or proto names) and mostly well-shaped values. */
function messageValue(desc: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const parts = desc.fields.map((f) => fc.option(fc.tuple(fc.constantFrom(f.jsonName, f.name), fieldValue(f, depth)), { nil: undefined }));
  return fc.tuple(fc.tuple(...parts), fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.string(), fc.jsonValue({ maxDepth: 1 })) })).map(([fields, extra]) => {
    const o: Record<string, unknown> = {};
    for (const kv of [...fields, extra]) if (kv !== undefined) o[kv[0]] = kv[1];
    return o;
  });
}

/** Text mutations of a valid-looking body: cut, insert, replace. */
const mutation = fc.tuple(fc.constantFrom("cut", "insert", "replace", "none", "none", "none"), fc.nat(), fc.string({ minLength: 1, maxLength: 3 }));
function mutate(text: string, [kind, at, s]: [string, number, string]): string {
  const i = text.length === 0 ? 0 : at % text.length;
  if (kind === "cut") return text.slice(0, i);
  if (kind === "insert") return text.slice(0, i) + s + text.slice(i);
  if (kind === "replace") return text.slice(0, i) + s + text.slice(i + s.length);
  return text;
}

const body = (r: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(messageValue(ROUTES[r]!.method.input), mutation).map(([v, m]) => mutate(JSON.stringify(v), m)) },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString("latin1")) },
  );

/** One body through the decoding path: "ok" with a message that encodes back to JSON, or a 4xx GomsError. */
export function decodeBody(r: number, text: string): "ok" | "rejected" {
  const { method, registry } = ROUTES[r]!;
  let msg;
  try {
    msg = jsonToMessage(method.input, registry, text);
  } catch (e) {
    assert.ok(e instanceof GomsError, `not a GomsError: ${String(e)} (body ${JSON.stringify(text)})`);
    const status = httpStatus(e.code, e.reason);
    assert.ok(status >= 400 && status < 500, `status ${status} for body ${JSON.stringify(text)}: ${e.message}`);
    return "rejected";
  }
  // A decoded request is a valid message: it encodes back and decodes to the same JSON.
  const again = messageToJson(method.input, registry, msg);
  assert.equal(messageToJson(method.input, registry, jsonToMessage(method.input, registry, again)), again);
  return "ok";
}

export const gatewayTargets: FuzzTarget[] = [
  {
    name: "gateway-json-body",
    check(runs) {
      fc.assert(
        fc.property(
          fc.oneof(...ROUTES.map((_, r) => fc.tuple(fc.constant(r), body(r)))),
          ([r, text]) => void decodeBody(r, text),
        ),
        { numRuns: runs },
      );
    },
  },
];
