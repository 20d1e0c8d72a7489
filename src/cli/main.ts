#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { GomsError, codeToString } from "../errors/index.js";
import { NodeService } from "../gen/goms/v1/node_pb.js";
import { VERSION } from "../version.js";
import { registerCallCommand } from "./call.js";
import { connect, kvFromUrl } from "./target.js";
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

registerCallCommand(program, intOption, collectMetadata, fail);
registerWatchCommand(program);
registerGatewayCommand(program);
registerAdminCommand(program);
registerRunCommand(program);
registerHealthCommand(program, intOption, fail);

await program.parseAsync(process.argv);
