/** Loads goms.bench.v1.BenchService the way a typical grpc-js user does: proto-loader + loadPackageDefinition. */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";

const PROTO = fileURLToPath(new URL("../../../proto/goms/bench/v1/bench.proto", import.meta.url));

function isServiceCtor(x: unknown): x is grpc.ServiceClientConstructor {
  return typeof x === "function" && "service" in x;
}

export function loadBenchService(): grpc.ServiceClientConstructor {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  let node: unknown = grpc.loadPackageDefinition(def);
  for (const part of ["goms", "bench", "v1", "BenchService"]) {
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  }
  if (!isServiceCtor(node)) throw new Error("goms.bench.v1.BenchService not found in bench.proto");
  return node;
}
