#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { GomsError, codeToString } from "../errors/index.js";
import { NodeService } from "../gen/goms/v1/node_pb.js";
import { VERSION } from "../version.js";
import { callJson, type CallTarget } from "./call.js";
import { connect, connectRegistry, kvFromUrl } from "./target.js";
import { createRegistry } from "../registry/index.js";
import { registerWatchCommand } from "./watch-cmd.js";
import { registerGatewayCommand } from "./gateway-cmd.js";
import { registerAdminCommand } from "./admin-cmd.js";
import { registerRunCommand } from "./run-cmd.js";
import { registerHealthCommand } from "./health-cmd.js";

function intOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function collectMetadata(v: string, prev: Record<string, string>): Record<string, string> {
  const i = v.indexOf("=");
  if (i <= 0) throw new InvalidArgumentError("expected key=value");
  return { ...prev, [v.slice(0, i).toLowerCase()]: v.slice(i + 1) };
}

function fail(err: unknown): never {
  const e = GomsError.from(err);
  process.stderr.write(`error: ${codeToString(e.code)}: ${e.rawMessage}${e.ret ? ` (ret ${e.ret})` : ""}\n`);
  process.exit(1);
}

const program = new Command("goms").version(VERSION).description("goms: fast, typed microservices for Node.js");

program
  .command("call")
  .description("call a method with JSON, using the descriptors nodes publish (no stubs needed)")
  .argument("<method>", "Service.Method, e.g. AddServer.Add or goms.examples.v1.AddServer.Add")
  .argument("[json]", "request as proto3 JSON (default {}; '-' reads stdin)", "{}")
  .option("--addr <host:port>", "call this node")
  .option("--registry <url>", "find the service through a registry: watch://host:port, etcd://host:port, (or GOMS_REGISTRY)")
  .option("--json", "print exact JSON on one line (default: pretty)", false)
  .option("--timeout <ms>", "deadline in milliseconds", intOption, 10_000)
  .option("-H, --metadata <key=value>", "request metadata (repeatable)", collectMetadata, {})
  .option("--token <token>", "token expected by the node (or GOMS_TOKEN)")
  .action(async (method: string, json: string, o: { addr?: string; registry?: string; json: boolean; timeout: number; metadata: Record<string, string>; token?: string }) => {
    const input = json === "-" ? await readStdin() : json;
    const token = o.token ?? process.env["GOMS_TOKEN"];
    const registryUrl = o.registry ?? (o.addr === undefined ? process.env["GOMS_REGISTRY"] : undefined);
    if (o.addr === undefined && registryUrl === undefined) fail(new Error("give --addr host:port or --registry url"));
    let close: () => Promise<void>;
    let target: CallTarget;
    if (o.addr !== undefined) {
      const c = await connect({ addr: o.addr, ...(token !== undefined ? { token } : {}) }).catch(fail);
      close = () => c.node.close({ graceMs: 0 });
      target = { node: c.node, pinned: c.target };
    } else {
      const c = await connectRegistry(registryUrl!, token).catch(fail);
      close = c.close;
      target = { node: c.node, pinned: undefined };
    }
    try {
      const out = await callJson(target, method, input, { json: o.json, timeoutMs: o.timeout, metadata: o.metadata });
      process.stdout.write(out.text + "\n");
      if (out.ret !== 0) process.stderr.write(`ret: ${out.ret}\n`);
    } catch (err) {
      await close();
      fail(err);
    }
    await close();
  });

program
  .command("nodes")
  .description("list the nodes registered in a registry, with their services")
  .requiredOption("--registry <url>", "watch://host:port or etcd://host:port")
  .option("--json", "print JSON", false)
  .action(async (o: { registry: string; json: boolean }) => {
    const kv = await kvFromUrl(o.registry).catch(fail);
    const registry = createRegistry({ kv });
    try {
      const { nodes } = await registry.list();
      if (o.json) {
        const { NodeIdentitySchema } = await import("../gen/goms/v1/node_pb.js");
        const { toJson } = await import("@bufbuild/protobuf");
        process.stdout.write(JSON.stringify(nodes.map((n) => toJson(NodeIdentitySchema, n.node!))) + "\n");
      } else {
        const rows = nodes.map((n) => {
          const id = n.node!;
          const services = id.services.filter((s) => !s.startsWith("goms.v1."));
          return `${id.name}\t${id.host}:${id.port}\tregion=${id.region}${id.set ? ` set=${id.set}` : ""}\t${services.join(",") || "-"}`;
        });
        process.stdout.write(["NAME\tADDRESS\tPLACE\tSERVICES", ...rows].join("\n") + "\n");
      }
    } catch (err) {
      await kv.close();
      fail(err);
    }
    await registry.close();
    await kv.close();
  });

program
  .command("info")
  .description("show a node's identity and services")
  .requiredOption("--addr <host:port>", "address of the node")
  .option("--token <token>", "token expected by the node (or GOMS_TOKEN)")
  .action(async (o: { addr: string; token?: string }) => {
    const token = o.token ?? process.env["GOMS_TOKEN"];
    const { node, target } = await connect({ addr: o.addr, ...(token !== undefined ? { token } : {}) }).catch(fail);
    try {
      const { toJsonString } = await import("@bufbuild/protobuf");
      const { InfoResponseSchema } = await import("../gen/goms/v1/node_pb.js");
      const info = await node.client(NodeService).info({}, { timeoutMs: 5000, node: target });
      process.stdout.write(toJsonString(InfoResponseSchema, info, { prettySpaces: 2 }) + "\n");
    } catch (err) {
      await node.close({ graceMs: 0 });
      fail(err);
    }
    await node.close({ graceMs: 0 });
  });

registerWatchCommand(program);
registerGatewayCommand(program);
registerAdminCommand(program);
registerRunCommand(program);
registerHealthCommand(program, intOption, fail);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

await program.parseAsync(process.argv);
