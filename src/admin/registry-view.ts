import { fromBinary, toJson } from "@bufbuild/protobuf";
import { NodeIdentitySchema } from "../gen/goms/v1/node_pb.js";
import { NodeRegistrationSchema } from "../gen/goms/v1/registry_pb.js";
import type { KvBackend, KvEntry, KvEvent, Registry } from "../registry/index.js";

/** A registry key as the browser shows it. */
export interface KeyView {
  key: string;
  lease: string;
  modRevision: number;
  size: number;
  /** "registration" (decoded NodeRegistration identity), "text" or "base64". */
  kind: "registration" | "text" | "base64";
  value: unknown;
}

export function kvOf(r: Registry | KvBackend): KvBackend {
  return "kv" in r && typeof r.kv === "object" ? r.kv : (r as KvBackend);
}

function printable(b: Uint8Array): string | undefined {
  const s = Buffer.from(b).toString("utf8");
  // Reject replacement characters and control bytes other than whitespace.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xfffd || c < 9 || (c > 13 && c < 32)) return undefined;
  }
  return s;
}

export function describeValue(key: string, value: Uint8Array): Pick<KeyView, "kind" | "value"> {
  if (key.startsWith("goms/nodes/")) {
    try {
      const reg = fromBinary(NodeRegistrationSchema, value);
      if (reg.node) {
        return { kind: "registration", value: { node: toJson(NodeIdentitySchema, reg.node), descriptorFiles: reg.descriptors?.file.map((f) => f.name) ?? [] } };
      }
    } catch {
      // Not a registration after all: fall through.
    }
  }
  const text = printable(value);
  if (text !== undefined) return { kind: "text", value: text.length > 4096 ? text.slice(0, 4096) + "…" : text };
  return { kind: "base64", value: Buffer.from(value.subarray(0, 3072)).toString("base64") };
}

export function keyView(e: KvEntry): KeyView {
  return { key: e.key, lease: e.lease, modRevision: e.modRevision, size: e.value.length, ...describeValue(e.key, e.value) };
}

export function eventView(ev: KvEvent): { type: string; key: string; revision: number; value?: Pick<KeyView, "kind" | "value"> } {
  return { type: ev.type, key: ev.key, revision: ev.revision, ...(ev.value ? { value: describeValue(ev.key, ev.value) } : {}) };
}
