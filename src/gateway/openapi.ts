import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { ServiceEntry } from "../json-call/index.js";

type Schema = Record<string, unknown>;

const WKT: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" },
  "google.protobuf.FieldMask": { type: "string" },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array", items: {} },
  "google.protobuf.Empty": { type: "object", additionalProperties: false },
  "google.protobuf.Any": { type: "object", properties: { "@type": { type: "string" } }, required: ["@type"], additionalProperties: true },
  "google.protobuf.DoubleValue": { type: ["number", "null"] },
  "google.protobuf.FloatValue": { type: ["number", "null"] },
  "google.protobuf.Int64Value": { type: ["string", "null"], format: "int64" },
  "google.protobuf.UInt64Value": { type: ["string", "null"], format: "uint64" },
  "google.protobuf.Int32Value": { type: ["integer", "null"], format: "int32" },
  "google.protobuf.UInt32Value": { type: ["integer", "null"], format: "uint32" },
  "google.protobuf.BoolValue": { type: ["boolean", "null"] },
  "google.protobuf.StringValue": { type: ["string", "null"] },
  "google.protobuf.BytesValue": { type: ["string", "null"], contentEncoding: "base64" },
};

/** proto3 JSON type of a scalar: 64-bit integers are strings, bytes are base64. */
function scalarSchema(t: ScalarType): Schema {
  switch (t) {
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
  }
}

function refName(typeName: string): string {
  return typeName;
}

class Builder {
  readonly schemas: Record<string, Schema> = {};

  enumSchema(e: DescEnum): Schema {
    if (e.typeName === "google.protobuf.NullValue") return { type: "null" };
    const name = refName(e.typeName);
    this.schemas[name] ??= { type: "string", enum: e.values.map((v) => v.name) };
    return { $ref: `#/components/schemas/${name}` };
  }

  messageSchema(m: DescMessage): Schema {
    const wkt = WKT[m.typeName];
    if (wkt !== undefined) return wkt;
    const name = refName(m.typeName);
    if (this.schemas[name] === undefined) {
      const properties: Record<string, Schema> = {};
      const s: Schema = { type: "object", properties, additionalProperties: false };
      this.schemas[name] = s; // before the fields: recursive messages refer to themselves
      for (const f of m.fields) properties[f.jsonName] = this.fieldSchema(f);
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  private fieldSchema(f: DescField): Schema {
    switch (f.fieldKind) {
      case "scalar":
        return scalarSchema(f.scalar);
      case "enum":
        return this.enumSchema(f.enum);
      case "message":
        return this.messageSchema(f.message);
      case "list":
        return {
          type: "array",
          items: f.listKind === "scalar" ? scalarSchema(f.scalar) : f.listKind === "enum" ? this.enumSchema(f.enum) : this.messageSchema(f.message),
        };
      case "map":
        return {
          type: "object",
          additionalProperties: f.mapKind === "scalar" ? scalarSchema(f.scalar) : f.mapKind === "enum" ? this.enumSchema(f.enum) : this.messageSchema(f.message),
        };
    }
  }
}

const ERROR_SCHEMA: Schema = {
  type: "object",
  required: ["code", "message"],
  properties: {
    code: { type: "string", description: "goms code name, e.g. not_found" },
    message: { type: "string" },
    ret: { type: "integer", description: "application return code, when non-zero" },
    details: {
      type: "array",
      items: { type: "object", properties: { type: { type: "string" }, value: { type: "string", contentEncoding: "base64" } } },
    },
  },
};

/** A server stream's 200: SSE by default, NDJSON with Accept: application/x-ndjson (docs/gateway.md "Streams"). */
function streamResponse(item: Schema): Schema {
  return {
    description:
      "a server stream: one `message` event per response (proto3 JSON, x-goms-item-schema), then one `end` event with the status {code, message, reason?, ret?}; " +
      'with Accept: application/x-ndjson, one line per event instead: {"message": ...} or {"end": ...}',
    content: {
      "text/event-stream": { schema: { type: "string", "x-goms-item-schema": item } },
      "application/x-ndjson": { schema: { type: "string", "x-goms-item-schema": item } },
    },
  };
}

/**
 * OpenAPI 3.1 for the routable services: one POST path per unary and server-streaming method at
 * `<prefix>/<Service>/<Method>` (short service name when unique, else the
 * fully-qualified one), request/response schemas in proto3 JSON terms.
 */
export function buildOpenApi(services: ReadonlyMap<string, ServiceEntry>, prefix: string, title: string, version: string): Schema {
  const b = new Builder();
  b.schemas["goms.Error"] = ERROR_SCHEMA;
  const shortCount = new Map<string, number>();
  for (const e of services.values()) shortCount.set(e.service.name, (shortCount.get(e.service.name) ?? 0) + 1);
  const paths: Record<string, Schema> = {};
  const retHeader = { description: "application return code (0..65535)", schema: { type: "integer" } };
  const errorResponse = { description: "error", headers: { "x-goms-ret": retHeader }, content: { "application/json": { schema: { $ref: "#/components/schemas/goms.Error" } } } };
  const entries = [...services.values()].sort((a, b2) => a.service.typeName.localeCompare(b2.service.typeName));
  for (const e of entries) {
    const svc = e.service;
    const name = shortCount.get(svc.name) === 1 ? svc.name : svc.typeName;
    for (const m of svc.methods) {
      // Client and bidi streams take a WebSocket, which OpenAPI cannot describe.
      if (m.methodKind !== "unary" && m.methodKind !== "server_streaming") continue;
      paths[`${prefix}/${name}/${m.name}`] = {
        post: {
          operationId: `${svc.typeName}.${m.name}`,
          tags: [svc.typeName],
          summary: `${svc.typeName}/${m.name}`,
          parameters: [
            { name: "x-goms-timeout-ms", in: "header", required: false, schema: { type: "integer", minimum: 1 }, description: "call deadline in ms (clamped)" },
          ],
          requestBody: { required: false, content: { "application/json": { schema: b.messageSchema(m.input) } } },
          responses: {
            "200": m.methodKind === "unary" ? { description: "success", headers: { "x-goms-ret": retHeader }, content: { "application/json": { schema: b.messageSchema(m.output) } } } : streamResponse(b.messageSchema(m.output)),
            default: errorResponse,
          },
        },
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: { title, version },
    paths,
    components: { schemas: b.schemas },
  };
}
