import type { DescField, DescMessage } from "@bufbuild/protobuf";
import type { CompiledMessage } from "./compiled.js";
import { generateDecoder } from "./compile-decoder.js";
import { generateEncoder } from "./compile-encoder.js";
import { fallbackMessage, fallbackReason } from "./fallback.js";
import type { GenContext } from "./gen-context.js";
import { H } from "./runtime.js";

/** An encode/decode function pair; the calling convention is up to each codec. */
export interface CompiledPair {
  enc: unknown;
  dec: unknown;
}

/**
 * What one codec (binary, JSON, ...) plugs into the group compiler: its cache,
 * the types it does not generate code for, its code generators and the
 * helper object its generated code calls as `h`.
 */
export interface GroupSpec<T extends CompiledPair> {
  cache: WeakMap<DescMessage, T>;
  /** The non-generated implementation for `desc`, or undefined to generate code. */
  fallback(desc: DescMessage): T | undefined;
  generateEncoder(desc: DescMessage, name: string, ctx: GenContext): string;
  generateDecoder(desc: DescMessage, name: string, ctx: GenContext): string;
  helpers: object;
}

function childMessage(f: DescField): DescMessage | undefined {
  if (f.fieldKind === "message") return f.message;
  if (f.fieldKind === "list" && f.listKind === "message") return f.message;
  if (f.fieldKind === "map" && f.mapKind === "message") return f.message;
  return undefined;
}

/**
 * Returns the compiled functions of `spec` for `desc`, compiling on first use.
 *
 * All message types reachable from `desc` that are not compiled yet are
 * generated together into one `new Function`, so they call each other
 * directly (recursion included). Already compiled or fallback types are
 * referenced through the closure array `X`.
 */
export function compileGroup<T extends CompiledPair>(desc: DescMessage, spec: GroupSpec<T>): T {
  const { cache } = spec;
  const hit = cache.get(desc);
  if (hit !== undefined) return hit;
  const fb = spec.fallback(desc);
  if (fb !== undefined) {
    cache.set(desc, fb);
    return fb;
  }
  const group: DescMessage[] = [];
  const index = new Map<DescMessage, number>();
  const external: T[] = [];
  const externalIndex = new Map<DescMessage, number>();
  const visit = (d: DescMessage): void => {
    if (index.has(d) || externalIndex.has(d)) return;
    const known = cache.get(d) ?? spec.fallback(d);
    if (known !== undefined) {
      cache.set(d, known);
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
    parts.push(spec.generateEncoder(d, `e${i}`, ctx));
    parts.push(spec.generateDecoder(d, `d${i}`, ctx));
  });
  parts.push(`return [${group.map((_, i) => `{ enc: e${i}, dec: d${i} }`).join(", ")}];`);
  const source = parts.join("\n");
  // The generated source is built from numbers, JSON-quoted strings and
  // closure references only (see gen-context.ts), never raw descriptor text.
  const factory = new Function("h", "X", "K", source) as (h: object, X: T[], K: unknown[]) => T[];
  const result = factory(spec.helpers, external, constants);
  group.forEach((d, i) => {
    const c = result[i];
    if (c !== undefined) cache.set(d, c);
  });
  const own = cache.get(desc);
  if (own === undefined) throw new Error(`codec: failed to compile ${desc.typeName}`);
  return own;
}

const binarySpec: GroupSpec<CompiledMessage> = {
  cache: new WeakMap(),
  fallback: (d) => (fallbackReason(d) !== undefined ? fallbackMessage(d) : undefined),
  generateEncoder,
  generateDecoder,
  helpers: H,
};

/** The compiled binary encoder/decoder of `desc`. */
export function compiledMessage(desc: DescMessage): CompiledMessage {
  return compileGroup(desc, binarySpec);
}

/** The generated source for `desc`'s group, for debugging. Does not cache. */
export function debugSource(desc: DescMessage, spec: Pick<GroupSpec<CompiledPair>, "generateEncoder" | "generateDecoder"> = binarySpec): string {
  const ctx: GenContext = { enc: (d) => `enc<${d.typeName}>`, dec: (d) => `dec<${d.typeName}>`, constant: () => "K[?]" };
  return `${spec.generateEncoder(desc, "e", ctx)}\n${spec.generateDecoder(desc, "d", ctx)}`;
}
