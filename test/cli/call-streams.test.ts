// `goms call` on streams, as a real process against a real node over TCP:
// a server stream printed message by message as it arrives, Ctrl-C (SIGINT)
// cancelling it (the server's handler ends), client and bidi streams fed
// NDJSON on stdin, and errors mid-stream.
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { createDbService, type DbService } from "../../examples/shared/db-service.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, until } from "../helpers.js";
import { run } from "../procs.js";
import { newProbe, streamImpl } from "../streams/fixture.js";
import type { GomsNode } from "../../src/rpc/index.js";

const CLI = "dist/cli/main.js";
/** The last line of a stream with --json whose handler set no ret and no trailer. */
const NO_END = '{"ret":0,"trailer":{}}\n';

/** A running `goms call`: its stdout lines so far, stdin to write to. */
interface Proc {
  p: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Proc {
  const p = spawn(process.execPath, [CLI, "call", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  let out = "";
  let err = "";
  p.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    const parts = out.split("\n");
    out = parts.pop()!;
    lines.push(...parts);
  });
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exit = once(p, "exit").then(([code]) => code as number | null);
  return { p, lines, stderr: () => err, exit };
}

/** Like run(), with `stdin` written to the process. */
function runWithStdin(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = start(args);
  c.p.stdin.end(stdin);
  return c.exit.then((code) => ({ code, stdout: c.lines.map((l) => l + "\n").join(""), stderr: c.stderr() }));
}

describe("goms call on streams, as processes", () => {
  const nodes = new NodeSet();
  const probe = newProbe();
  let db: DbService;
  let server: GomsNode;
  let addr: string;

  before(async () => {
    db = createDbService();
    server = await nodes.start({ identity: { name: "call-streams" }, listen: { port: 0 } }, (n) => {
      n.service(DB, db.impl);
      n.service(StreamTest, streamImpl(probe));
    });
    addr = `127.0.0.1:${server.port}`;
  });
  after(() => nodes.closeAll());

  it("DB.Watch prints the current value, then each change as it happens; Ctrl-C cancels the stream on the server", async () => {
    const c = start(["--json", "--addr", addr, "DB.Watch", '{"key":"w"}']);
    try {
      await until(() => c.lines.length === 1, 30_000, "the current value");
      assert.deepEqual(c.lines, ['{"key":"w"}']);
      assert.equal(db.watchers(), 1);
      const dbc = server.client(DB);
      await dbc.update({ key: "w", value: "one" });
      await until(() => c.lines.length === 2, 30_000, "the first change");
      await dbc.update({ key: "other", value: "x" });
      await dbc.update({ key: "w", value: "two" });
      await until(() => c.lines.length === 3, 30_000, "the second change");
      assert.deepEqual(c.lines.slice(1), ['{"key":"w","value":"one","version":1}', '{"key":"w","value":"two","version":2}']);
      c.p.kill("SIGINT");
      assert.equal(await c.exit, 130, c.stderr());
      assert.equal(c.stderr(), "", "a cancel by Ctrl-C is not an error");
      await until(() => db.watchers() === 0, 5000, "the server's watcher to end");
    } finally {
      c.p.kill("SIGKILL");
    }
  });

  it("--follow opens DB.Watch again when its node goes away and comes back on the same port", async () => {
    const first = createDbService();
    const own = new NodeSet();
    try {
      const a = await own.start({ identity: { name: "follow-db" }, listen: { port: 0 } }, (n) => n.service(DB, first.impl));
      const port = a.port;
      await a.client(DB).update({ key: "f", value: "before" });
      const c = start(["--json", "--follow", "--addr", `127.0.0.1:${port}`, "DB.Watch", '{"key":"f"}']);
      try {
        await until(() => c.lines.length === 1, 30_000, "the current value");
        await a.close({ graceMs: 0 });
        await until(() => /opening it again in \d+ ms/.test(c.stderr()), 30_000, "a notice that the stream is opened again");
        // The node comes back (a new process would: same address, its own state).
        const second = createDbService();
        const b = await own.start({ identity: { name: "follow-db" }, listen: { port } }, (n) => n.service(DB, second.impl));
        await b.client(DB).update({ key: "f", value: "after" });
        await until(() => c.lines.length === 2, 30_000, "the value on the node that came back");
        assert.deepEqual(c.lines, ['{"key":"f","value":"before","version":1}', '{"key":"f","value":"after","version":1}']);
        assert.match(c.stderr(), /^goms call: the stream ended \(unavailable: [^)]*\); opening it again in \d+ ms$/m);
        c.p.kill("SIGINT");
        assert.equal(await c.exit, 130, c.stderr());
        await until(() => second.watchers() === 0, 5000, "the watcher on the node that came back to end");
      } finally {
        c.p.kill("SIGKILL");
      }
    } finally {
      await own.closeAll();
    }
  });

  it("--follow on a method that is not a server stream is a usage error", async () => {
    const r = await runWithStdin(["--follow", "--addr", addr, "StreamTest.Sum"], "");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--follow is for server streams; Sum is client streaming/);
  });

  it("a reader that goes away (| head -2) cancels the stream: the server's generator ends", async () => {
    const before = probe.finallyRan;
    const sh = spawn("bash", ["-c", `${process.execPath} ${CLI} call --json --addr ${addr} StreamTest.Count '{"count":100000000}' | head -2`], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    sh.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const [code] = (await once(sh, "exit")) as [number | null];
    assert.equal(code, 0);
    assert.equal(stdout, '{}\n{"n":1}\n');
    await until(() => probe.finallyRan === before + 1, 30_000, "the server generator's finally");
  });

  it("a server stream, pretty by default; an error mid-stream after the messages it sent", async () => {
    const pretty = await run([CLI, "call", "--addr", addr, "StreamTest.Count", '{"count":2}']);
    assert.equal(pretty.code, 0, pretty.stderr);
    assert.equal(pretty.stdout, "{}\n{\n  \"n\": 1\n}\n");
    assert.equal(pretty.stderr, "", "no ret, no trailer: nothing to say");
    const failed = await run([CLI, "call", "--json", "--addr", addr, "StreamTest.Count", '{"count":5,"failAfter":2}']);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, '{}\n{"n":1}\n');
    assert.match(failed.stderr, /^error: failed_precondition: failed on purpose \(ret 77\)\n$/);
  });

  it("a stream's ret and trailer come last: an NDJSON line with --json, a line on stderr without", async () => {
    const server = await run([CLI, "call", "--json", "--addr", addr, "StreamTest.Count", '{"count":2,"endRet":7}']);
    assert.equal(server.code, 0, server.stderr);
    assert.equal(server.stdout, '{}\n{"n":1}\n{"ret":7,"trailer":{"x-end":"done"}}\n');
    assert.equal(server.stderr, "");
    const client = await runWithStdin(["--json", "--addr", addr, "StreamTest.Sum"], '{"n":1}\n{"n":2,"endRet":3}\n');
    assert.equal(client.stdout, '{"total":"3","messages":2}\n{"ret":3,"trailer":{"x-end":"done"}}\n');
    const bidi = await runWithStdin(["--json", "--addr", addr, "StreamTest.Echo"], '{"n":1,"endRet":5}\n');
    assert.equal(bidi.stdout, '{"n":1,"endRet":5}\n{"ret":5,"trailer":{"x-end":"done"}}\n');
    const pretty = await run([CLI, "call", "--addr", addr, "StreamTest.Count", '{"count":1,"endRet":7}']);
    assert.equal(pretty.code, 0, pretty.stderr);
    assert.equal(pretty.stdout, "{}\n", "stdout holds only the messages");
    assert.equal(pretty.stderr, 'ret: 7, trailer: {"x-end":"done"}\n');
  });

  it("a client stream reads NDJSON requests from stdin", async () => {
    const r = await runWithStdin(["--json", "--addr", addr, "StreamTest.Sum"], '{"n":1}\n\n{"n":2}\n{"n":39}');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"total":"42","messages":3}\n' + NO_END);
    const dash = await runWithStdin(["--json", "--addr", addr, "StreamTest.Sum", "-"], '{"n":5}\n');
    assert.equal(dash.stdout, '{"total":"5","messages":1}\n' + NO_END);
    const arg = await run([CLI, "call", "--json", "--addr", addr, "StreamTest.Sum", '{"n":1}\n{"n":2}']);
    assert.equal(arg.stdout, '{"total":"3","messages":2}\n' + NO_END);
  });

  it("a bad request line ends a client stream with invalid_argument naming the line", async () => {
    const r = await runWithStdin(["--json", "--addr", addr, "StreamTest.Sum"], '{"n":1}\n{"n":"x"}\n');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: invalid_argument: request line 2: /);
  });

  it("bidi: each request line is answered while stdin is still open", async () => {
    const c = start(["--json", "--addr", addr, "StreamTest.Echo"]);
    try {
      for (let i = 1; i <= 3; i++) {
        c.p.stdin.write(`{"n":${i}}\n`);
        // The answer arrives before the next request is written: messages flow as they come, both ways.
        await until(() => c.lines.length === i, 30_000, `echo ${i}`);
      }
      c.p.stdin.end();
      assert.equal(await c.exit, 0, c.stderr());
      assert.deepEqual(c.lines, ['{"n":1}', '{"n":2}', '{"n":3}', NO_END.trim()]);
    } finally {
      c.p.kill("SIGKILL");
    }
  });

  it("unary calls still read one JSON from stdin with '-'", async () => {
    await server.client(DB).update({ key: "u", value: "v" });
    const r = await runWithStdin(["--json", "--addr", addr, "DB.Query", "-"], '{\n  "key": "u"\n}\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"value":"v"}\n');
  });
});
