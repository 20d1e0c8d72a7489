import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { createJsonCaller, type JsonCaller } from "../json-call/index.js";
import { Code, GomsError, gomsError } from "../errors/index.js";
import type { GomsNode } from "../rpc/index.js";
import type { FieldSchema, MethodSchema, ServiceSchema } from "./api-types.js";

export type { FieldSchema, MethodSchema, ServiceSchema };


function scalarName(t: ScalarType): string {
  return ScalarType[t].toLowerCase();
}

function fieldSchema(f: DescField): FieldSchema {
  const base = { name: f.jsonName, repeated: f.fieldKind === "list", map: f.fieldKind === "map" };
  switch (f.fieldKind) {
    case "scalar":
      return { ...base, type: scalarName(f.scalar) };
    case "enum":
      return { ...base, type: "enum", values: f.enum.values.map((v) => v.name) };
    case "message":
      return { ...base, type: "message", message: f.message.typeName };
    case "list":
      if (f.listKind === "scalar") return { ...base, type: scalarName(f.scalar) };
      if (f.listKind === "enum") return { ...base, type: "enum", values: f.enum.values.map((v) => v.name) };
      return { ...base, type: "message", message: f.message.typeName };
    case "map":
      return { ...base, type: f.mapKind === "scalar" ? scalarName(f.scalar) : f.mapKind };
  }
}

function scalarDefault(t: ScalarType): unknown {
  switch (t) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return "0";
    default:
      return 0;
  }
}

/** A JSON value with every field at its default (nested messages to depth 3). */
export function template(desc: DescMessage, depth = 0): unknown {
  const out: Record<string, unknown> = {};
  for (const f of desc.fields) {
    if (f.fieldKind === "list") out[f.jsonName] = [];
    else if (f.fieldKind === "map") out[f.jsonName] = {};
    else if (f.fieldKind === "scalar") out[f.jsonName] = scalarDefault(f.scalar);
    else if (f.fieldKind === "enum") out[f.jsonName] = f.enum.values[0]?.name ?? 0;
    else out[f.jsonName] = depth < 3 ? template(f.message, depth + 1) : {};
  }
  return out;
}

/** Services and methods known from the nodes' published descriptors, and calls transcoded with them (the shared JSON-call module). */
export class MethodCatalog {
  private readonly json: JsonCaller;

  constructor(private readonly node: GomsNode) {
    this.json = createJsonCaller(node, { descriptorTimeoutMs: 3000 });
  }

  async services(): Promise<ServiceSchema[]> {
    await this.json.catalog.sync(true);
    const hosts = new Map<string, string[]>();
    for (const [name, reg] of this.node.discovered()) {
      for (const s of reg.node?.services ?? []) hosts.set(s, [...(hosts.get(s) ?? []), name]);
    }
    for (const p of this.node.peerList()) {
      const id = p.identity;
      if (id && p.state === "ready") for (const s of id.services) if (!hosts.get(s)?.includes(id.name)) hosts.set(s, [...(hosts.get(s) ?? []), id.name]);
    }
    return [...this.json.catalog.services().values()]
      .map((e) => ({
        name: e.service.typeName,
        nodes: (hosts.get(e.service.typeName) ?? []).sort(),
        methods: e.service.methods
          .filter((m) => m.methodKind === "unary")
          .map((m) => ({ name: m.name, input: m.input.typeName, output: m.output.typeName, fields: m.input.fields.map(fieldSchema), template: template(m.input) })),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Calls `service`/`method` with a proto3 JSON request; optionally pinned to a node. */
  async call(service: string, method: string, json: string, opts: { node?: string; timeoutMs: number }): Promise<{ json: unknown; ret: number; node: string | undefined; ms: number }> {
    await this.json.catalog.sync(true);
    let route;
    try {
      route = await this.json.route(service, method);
    } catch (e) {
      if (GomsError.is(e) && e.code === Code.NotFound) throw gomsError("GOMS_ERR_UNKNOWN_METHOD", { service, method }, { cause: e });
      throw e;
    }
    const started = performance.now();
    const r = await this.json.call(route, json, { timeoutMs: opts.timeoutMs, ...(opts.node ? { node: opts.node } : {}) });
    const ms = performance.now() - started;
    return { json: JSON.parse(r.json) as unknown, ret: r.ret, node: r.metadata["x-node"] ?? opts.node, ms };
  }
}
