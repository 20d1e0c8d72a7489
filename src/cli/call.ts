import { createFileRegistry, fromBinary, fromJsonString, toBinary, toJsonString, type DescMethod, type DescService, type Registry } from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { Code, GomsError } from "../errors/index.js";
import { NodeService } from "../gen/goms/v1/node_pb.js";
import type { GomsNode } from "../rpc/index.js";

export interface CallCommandOptions {
  json: boolean;
  timeoutMs: number;
  metadata: Record<string, string>;
}

export interface CallOutput {
  text: string;
  ret: number;
}

/** Splits "Svc.Method" / "pkg.Svc.Method" / "pkg.Svc/Method". */
export function splitMethod(name: string): { service: string; method: string } {
  const slash = name.indexOf("/");
  const cut = slash >= 0 ? slash : name.lastIndexOf(".");
  if (cut <= 0 || cut === name.length - 1) throw new GomsError(`"${name}" is not Service.Method`, Code.InvalidArgument);
  return { service: name.slice(0, cut), method: name.slice(cut + 1) };
}

function findService(reg: Registry, name: string): DescService | undefined {
  const exact = reg.getService(name);
  if (exact) return exact;
  const matches: DescService[] = [];
  for (const d of reg) if (d.kind === "service" && d.name === name) matches.push(d);
  if (matches.length > 1) throw new GomsError(`service name ${name} is ambiguous: ${matches.map((m) => m.typeName).join(", ")}`, Code.InvalidArgument);
  return matches[0];
}

/** Where the descriptors come from, and which node (if any) the call is pinned to. */
export interface CallTarget {
  node: GomsNode;
  /** Pin the call to this node (--addr); undefined: load-balance (--registry). */
  pinned: string | undefined;
  /** Descriptors for `service`, or undefined when no node hosts it. */
  describe(service: string): Promise<FileDescriptorSet | undefined>;
}

/** Descriptors fetched from the node itself (goms.v1.NodeService/Descriptors). */
export function describeFromNode(node: GomsNode, target: string, timeoutMs: number): CallTarget["describe"] {
  return async (service) => {
    const d = await node.client(NodeService).descriptors({ services: [service] }, { timeoutMs, node: target });
    return d.files !== undefined && d.files.file.length > 0 ? d.files : undefined;
  };
}

/**
 * Calls any method with JSON, without compiled stubs: descriptors published by
 * the nodes drive the transcoding.
 */
export async function callJson(t: CallTarget, name: string, input: string, o: CallCommandOptions): Promise<CallOutput> {
  const { service, method } = splitMethod(name);
  const where = t.pinned === undefined ? "any registered node" : `node ${t.pinned}`;
  const files = await t.describe(service);
  if (files === undefined) throw new GomsError(`service ${service} is not hosted by ${where}`, Code.NotFound);
  const reg = createFileRegistry(files);
  const svc = findService(reg, service);
  if (!svc) throw new GomsError(`service ${service} is not hosted by ${where}`, Code.NotFound);
  const m: DescMethod | undefined = svc.methods.find((x) => x.name === method || x.localName === method);
  if (!m) throw new GomsError(`${svc.typeName} has no method ${method} (has: ${svc.methods.map((x) => x.name).join(", ")})`, Code.NotFound);
  let req;
  try {
    req = fromJsonString(m.input, input.trim() === "" ? "{}" : input, { registry: reg });
  } catch (e) {
    throw new GomsError(`invalid ${m.input.typeName} JSON: ${(e as Error).message}`, Code.InvalidArgument, { cause: e });
  }
  const res = await t.node.rawCall(`${svc.typeName}/${m.name}`, toBinary(m.input, req), {
    timeoutMs: o.timeoutMs,
    metadata: o.metadata,
    ...(t.pinned === undefined ? {} : { node: t.pinned }),
  });
  const out = fromBinary(m.output, res.message);
  const text = toJsonString(m.output, out, { registry: reg, ...(o.json ? {} : { prettySpaces: 2 }) });
  return { text, ret: res.ret };
}
