// The 581-byte BenchmarkMessage used by rpcx-benchmark-style comparisons.
import { create, toBinary } from "@bufbuild/protobuf";
import { type BenchmarkMessage, BenchmarkMessageSchema } from "./gen/goms/bench/v1/bench_pb.js";

/** 18 CJK characters: 54 UTF-8 bytes. */
export const BENCH_STRING = "你好，世界！这是一个基准测试消息的内容哈";

export const BENCH_MESSAGE_SIZE = 581;

/** Plain field values of the benchmark message (int64 as number: JSON/protobufjs friendly). */
export function benchMessageFields(): Record<string, string | number | boolean | number[]> {
  const s = BENCH_STRING.slice(0, 18);
  const out: Record<string, string | number | boolean | number[]> = {};
  for (const n of [1, 4, 7, 9, 18, 102, 103, 129]) out[`field${n}`] = s;
  for (const n of [2, 3, 280, 6, 16, 130, 104, 100, 101, 29, 60, 271, 272, 150, 23, 25, 67, 68, 128, 131]) out[`field${n}`] = 100000;
  out.field22 = 100000;
  for (const n of [80, 81, 59, 12, 17, 13, 14, 30, 24, 78]) out[`field${n}`] = true;
  out.field5 = [];
  return out;
}

/** Builds the benchmark message and checks that it encodes to 581 bytes. */
export function makeBenchMessage(): BenchmarkMessage {
  const fields = benchMessageFields();
  const msg = create(BenchmarkMessageSchema, { ...fields, field22: BigInt(fields.field22 as number), field5: [] });
  const size = toBinary(BenchmarkMessageSchema, msg).length;
  if (size !== BENCH_MESSAGE_SIZE) throw new Error(`benchmark message is ${size} bytes, expected ${BENCH_MESSAGE_SIZE}`);
  return msg;
}
