// Micro-benchmark: encode+decode of the 581-byte BenchmarkMessage.
// Micro-benchmark of the proto3 JSON codec on the same message (1,050 bytes of JSON).
// Run: node --import tsx bench/codec.ts [rounds] [itersPerRound] [binary|json]
import { fileURLToPath } from "node:url";
import { equals, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import protobuf from "protobufjs";
import { BenchmarkMessageSchema } from "./gen/goms/bench/v1/bench_pb.js";
import { Writer, getCodec, getJsonCodec } from "../src/codec/index.js";
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

const cases: Case[] = [
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

// proto3 JSON of the same message: @bufbuild reflection, the generated codec,
// and plain JSON.stringify/parse of the same text as a floor.
const jsonCodec = getJsonCodec(BenchmarkMessageSchema);
const jsonText = toJsonString(BenchmarkMessageSchema, msg);
const plain = JSON.parse(jsonText) as Record<string, unknown>;
if (jsonCodec.toJson(msg) !== jsonText) throw new Error("toJson differs from toJsonString");
if (!equals(BenchmarkMessageSchema, jsonCodec.fromJson(jsonText), msg)) throw new Error("fromJson differs from the message");
const jsonCases: Case[] = [
  { name: "@bufbuild toJsonString", run: () => void (sink += toJsonString(BenchmarkMessageSchema, msg).length) },
  { name: "goms toJson", run: () => void (sink += jsonCodec.toJson(msg).length) },
  { name: "JSON.stringify", run: () => void (sink += JSON.stringify(plain).length) },
  { name: "@bufbuild fromJsonString", run: () => void (sink += fromJsonString(BenchmarkMessageSchema, jsonText).field2) },
  { name: "goms fromJson", run: () => void (sink += jsonCodec.fromJson(jsonText).field2) },
  { name: "JSON.parse", run: () => void (sink += (JSON.parse(jsonText) as { field2: number }).field2) },
  {
    name: "@bufbuild toJsonString+fromJsonString",
    run: () => void (sink += fromJsonString(BenchmarkMessageSchema, toJsonString(BenchmarkMessageSchema, msg)).field2),
  },
  { name: "goms toJson+fromJson", run: () => void (sink += jsonCodec.fromJson(jsonCodec.toJson(msg)).field2) },
  { name: "JSON.stringify+parse", run: () => void (sink += (JSON.parse(JSON.stringify(plain)) as { field2: number }).field2) },
];

// Sanity: same bytes as @bufbuild and protobufjs.
const ours = Buffer.from(codec.encode(msg));
if (!ours.equals(Buffer.from(toBinary(BenchmarkMessageSchema, msg)))) throw new Error("bytes differ from toBinary");
console.log(`message: ${ours.length} bytes; protobufjs: ${PbjsType.encode(pbjsMsg).finish().length} bytes`);


interface Case {
  name: string;
  run: () => void;
}

const median = (xs: number[]): number => {
  const s = xs.concat().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** Interleaved rounds (order rotated each round); prints a table of median CPU µs per run relative to `base`. */
function measure(title: string, cases: Case[], base: string): void {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) for (let i = 0; i < iters; i++) c.run(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + r) % cases.length];
      if (c === undefined) continue;
      // CPU time of this process, not wall time: the machine may be shared.
      const t0 = process.cpuUsage();
      for (let i = 0; i < iters; i++) c.run();
      const used = process.cpuUsage(t0);
      samples.get(c.name)?.push((used.user + used.system) / iters);
    }
  }
  const ref = median(samples.get(base) ?? []);
  console.log(`\n${title}: ${rounds} rounds x ${iters} iterations, median CPU µs per op (lower is better)\n`);
  const vs = `vs ${base}`;
  console.log(`| ${"codec".padEnd(38)} | ${"µs/op".padStart(7)} | ${"min".padStart(7)} | ${vs} |`);
  console.log(`| ${"-".repeat(38)} | ${"-".repeat(7)} | ${"-".repeat(7)} | ${"-".repeat(vs.length)} |`);
  for (const c of cases) {
    const xs = samples.get(c.name) ?? [];
    const med = median(xs);
    console.log(`| ${c.name.padEnd(38)} | ${med.toFixed(3).padStart(7)} | ${Math.min(...xs).toFixed(3).padStart(7)} | ${`${(med / ref).toFixed(2)}x`.padStart(vs.length)} |`);
  }
}

const only = process.argv[4];
if (only !== "json") measure("binary encode+decode", cases, "protobufjs");
if (only !== "binary") measure(`proto3 JSON (${Buffer.byteLength(jsonText)} bytes of JSON)`, jsonCases, "JSON.stringify+parse");
if (sink === 42) console.log("");
