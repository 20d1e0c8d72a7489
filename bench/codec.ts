// Micro-benchmark: encode+decode of the 581-byte BenchmarkMessage.
// Run: node --import tsx bench/codec.ts [rounds] [itersPerRound]
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import protobuf from "protobufjs";
import { BenchmarkMessageSchema } from "../src/gen/goms/bench/v1/bench_pb.js";
import { Writer, getCodec } from "../src/codec/index.js";
import { benchMessageFields, makeBenchMessage } from "./bench-message.js";

const rounds = Number(process.argv[2] ?? 15);
const iters = Number(process.argv[3] ?? 20000);

const msg = makeBenchMessage();
const codec = getCodec(BenchmarkMessageSchema);
const writer = new Writer();

const protoPath = fileURLToPath(new URL("../proto/goms/bench/v1/bench.proto", import.meta.url));
const PbjsType = protobuf.loadSync(protoPath).lookupType("goms.bench.v1.BenchmarkMessage");
const pbjsMsg = PbjsType.fromObject(benchMessageFields());
const jsonObj = benchMessageFields();

let sink = 0;

const cases: { name: string; run: () => void }[] = [
  {
    name: "goms encodeInto+decode",
    run: () => {
      writer.rewind();
      const start = writer.pos;
      codec.encodeInto(msg, writer);
      const out = codec.decode(writer.buf, start, writer.pos);
      sink += out.field2;
    },
  },
  {
    name: "goms encode()+decode",
    run: () => {
      const bytes = codec.encode(msg);
      sink += codec.decode(bytes).field2;
    },
  },
  {
    name: "protobufjs",
    run: () => {
      const bytes = PbjsType.encode(pbjsMsg).finish();
      sink += (PbjsType.decode(bytes) as unknown as { field2: number }).field2;
    },
  },
  {
    name: "@bufbuild toBinary+fromBinary",
    run: () => {
      const bytes = toBinary(BenchmarkMessageSchema, msg);
      sink += fromBinary(BenchmarkMessageSchema, bytes).field2;
    },
  },
  {
    name: "JSON stringify+parse",
    run: () => {
      const s = JSON.stringify(jsonObj);
      sink += (JSON.parse(s) as { field2: number }).field2;
    },
  },
];

// Sanity: same bytes as @bufbuild and protobufjs.
const ours = Buffer.from(codec.encode(msg));
if (!ours.equals(Buffer.from(toBinary(BenchmarkMessageSchema, msg)))) throw new Error("bytes differ from toBinary");
console.log(`message: ${ours.length} bytes; protobufjs: ${PbjsType.encode(pbjsMsg).finish().length} bytes`);

const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (const c of cases) for (let i = 0; i < iters; i++) c.run(); // warm-up
for (let r = 0; r < rounds; r++) {
  // Interleave contenders, rotating the order each round.
  for (let k = 0; k < cases.length; k++) {
    const c = cases[(k + r) % cases.length];
    if (c === undefined) continue;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) c.run();
    const ns = Number(process.hrtime.bigint() - t0);
    samples.get(c.name)?.push(ns / iters / 1000);
  }
}

const median = (xs: number[]): number => {
  const s = xs.concat().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const base = median(samples.get("protobufjs") ?? []);
console.log(`\n${rounds} rounds x ${iters} iterations, median µs per encode+decode (lower is better)\n`);
console.log(`| ${"codec".padEnd(30)} | ${"µs/op".padStart(7)} | ${"min".padStart(7)} | vs protobufjs |`);
console.log(`| ${"-".repeat(30)} | ${"-".repeat(7)} | ${"-".repeat(7)} | ------------- |`);
for (const c of cases) {
  const xs = samples.get(c.name) ?? [];
  const med = median(xs);
  console.log(`| ${c.name.padEnd(30)} | ${med.toFixed(3).padStart(7)} | ${Math.min(...xs).toFixed(3).padStart(7)} | ${(med / base).toFixed(2).padStart(12)}x |`);
}
if (sink === 42) console.log("");
