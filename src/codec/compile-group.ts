import type { DescField, DescMessage } from "@bufbuild/protobuf";
import type { CompiledMessage } from "./compiled.js";
import { generateDecoder } from "./compile-decoder.js";
import { generateEncoder } from "./compile-encoder.js";
import { fallbackMessage, fallbackReason } from "./fallback.js";
import type { GenContext } from "./gen-context.js";
import { H } from "./runtime.js";

const compiled = new WeakMap<DescMessage, CompiledMessage>();

function childMessage(f: DescField): DescMessage | undefined {
  if (f.fieldKind === "message") return f.message;
  if (f.fieldKind === "list" && f.listKind === "message") return f.message;
  if (f.fieldKind === "map" && f.mapKind === "message") return f.message;
  return undefined;
}

/**
 * Returns the compiled functions for `desc`, compiling on first use.
 *
 * All message types reachable from `desc` that are not compiled yet are
 * generated together into one `new Function`, so they call each other
 * directly (recursion included). Already compiled or fallback types are
 * referenced through the closure array `X`.
 */
export function compiledMessage(desc: DescMessage): CompiledMessage {
  const hit = compiled.get(desc);
  if (hit !== undefined) return hit;
  if (fallbackReason(desc) !== undefined) {
    const fb = fallbackMessage(desc);
    compiled.set(desc, fb);
    return fb;
  }
  const group: DescMessage[] = [];
  const index = new Map<DescMessage, number>();
  const external: CompiledMessage[] = [];
  const externalIndex = new Map<DescMessage, number>();
  const visit = (d: DescMessage): void => {
    if (index.has(d) || externalIndex.has(d)) return;
    const known = compiled.get(d) ?? (fallbackReason(d) !== undefined ? fallbackMessage(d) : undefined);
    if (known !== undefined) {
      compiled.set(d, known);
      externalIndex.set(d, external.length);
      external.push(known);
      return;
    }
    index.set(d, group.length);
    group.push(d);
    for (const f of d.fields) {
      const c = childMessage(f);
      if (c !== undefined) visit(c);
    }
  };
  visit(desc);

  const constants: unknown[] = [];
  const ref = (d: DescMessage, kind: "e" | "d"): string => {
    const i = index.get(d);
    if (i !== undefined) return `${kind}${i}`;
    const x = externalIndex.get(d);
    if (x === undefined) throw new Error(`codec: internal error, ${d.typeName} not planned`);
    return `x${kind}${x}`;
  };
  const ctx: GenContext = {
    enc: (d) => ref(d, "e"),
    dec: (d) => ref(d, "d"),
    constant(value) {
      constants.push(value);
      return `K[${constants.length - 1}]`;
    },
  };
  const parts: string[] = [`"use strict";`];
  external.forEach((_, i) => parts.push(`var xe${i} = X[${i}].enc, xd${i} = X[${i}].dec;`));
  group.forEach((d, i) => {
    parts.push(generateEncoder(d, `e${i}`, ctx));
    parts.push(generateDecoder(d, `d${i}`, ctx));
  });
  parts.push(`return [${group.map((_, i) => `{ enc: e${i}, dec: d${i} }`).join(", ")}];`);
  const source = parts.join("\n");
  // The generated source is built from numbers, JSON-quoted strings and
  // closure references only (see gen-context.ts), never raw descriptor text.
  const factory = new Function("h", "X", "K", source) as (h: typeof H, X: CompiledMessage[], K: unknown[]) => CompiledMessage[];
  const result = factory(H, external, constants);
  group.forEach((d, i) => {
    const c = result[i];
    if (c !== undefined) compiled.set(d, c);
  });
  const own = compiled.get(desc);
  if (own === undefined) throw new Error(`codec: failed to compile ${desc.typeName}`);
  return own;
}

/** The generated source for `desc`'s group, for debugging. Does not cache. */
export function debugSource(desc: DescMessage): string {
  const ctx: GenContext = { enc: (d) => `enc<${d.typeName}>`, dec: (d) => `dec<${d.typeName}>`, constant: () => "K[?]" };
  return `${generateEncoder(desc, "e", ctx)}\n${generateDecoder(desc, "d", ctx)}`;
}
