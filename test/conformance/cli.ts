// The goms protocol conformance suite against any running node (docs/protocol.md):
//   npm run conformance -- --addr host:port [--token T] [--max-pending-handshakes N] [--filter TEXT]
// Prints each case as it finishes and exits 1 when any case fails.
import { parseArgs } from "node:util";
import { runSuite, type CaseResult } from "./suite.js";

const usage = "usage: npm run conformance -- --addr host:port [--token T] [--max-pending-handshakes N] [--filter TEXT] [--concurrency N]";

function parseAddr(addr: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(addr);
  if (!m) throw new Error(`--addr must be host:port, got ${addr}`);
  return { host: m[1] || "127.0.0.1", port: Number(m[2]) };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      addr: { type: "string" },
      token: { type: "string" },
      "max-pending-handshakes": { type: "string" },
      filter: { type: "string" },
      concurrency: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help || values.addr === undefined) {
    process.stderr.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const { host, port } = parseAddr(values.addr);
  const started = Date.now();
  const print = (r: CaseResult): void => {
    const mark = r.skipped ? "skip" : r.error ? "FAIL" : "pass";
    process.stdout.write(`${mark}  ${r.title}${r.skipped ? ` (SKIPPED: ${r.skipReason ?? "does not apply"})` : ` (${r.ms} ms)`}\n`);
    if (r.error) process.stdout.write(`      ${r.error.message.split("\n").join("\n      ")}\n`);
  };
  const results = await runSuite(
    {
      target: { host, port, ...(values.token === undefined ? {} : { token: values.token }) },
      ...(values["max-pending-handshakes"] === undefined ? {} : { maxPendingHandshakes: Number(values["max-pending-handshakes"]) }),
      ...(values.filter === undefined ? {} : { filter: values.filter }),
      ...(values.concurrency === undefined ? {} : { concurrency: Number(values.concurrency) }),
    },
    print,
  );
  const failed = results.filter((r) => r.error !== undefined);
  const skipped = results.filter((r) => r.skipped).length;
  process.stdout.write(
    `\n${results.length - failed.length - skipped} passed, ${failed.length} failed, ${skipped} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  // Skips are listed with their reason at the end, so a node that was not fully tested is never mistaken for one that passed everything.
  for (const r of results.filter((x) => x.skipped)) process.stdout.write(`SKIP  ${r.title}: ${r.skipReason ?? "does not apply"}\n`);
  for (const r of failed) process.stdout.write(`FAIL  ${r.title}\n`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`conformance: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
