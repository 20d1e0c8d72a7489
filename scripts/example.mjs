#!/usr/bin/env node
// npm run example -- <name> [-- args...]   e.g.  npm run example -- rpc/server
// Runs examples/<name>.ts with tsx.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

const [name, ...rest] = process.argv.slice(2);
const args = rest[0] === "--" ? rest.slice(1) : rest;
const file = `examples/${name ?? ""}.ts`;
if (!name || !existsSync(file)) {
  console.error(`usage: npm run example -- <name> [-- args]\nno such example: ${file}`);
  process.exit(2);
}
const child = spawn(process.execPath, ["--import", "tsx", file, ...args], { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
