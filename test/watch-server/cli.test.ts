import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { createWatchClient } from "../../src/watch/index.js";
import { dec, enc, startWatchProcess, type WatchProcess } from "./helpers.js";

const SCRIPT = "test/watch-server/fixtures/watch-cli.ts";
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), "goms-watch-cli-"));
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function startWatch(args: string[]): Promise<WatchProcess> {
  return startWatchProcess(args, children);
}

describe("goms watch", () => {
  it("serves, keeps data in --dir across a restart, requires --token, stops gracefully on SIGTERM/SIGINT", async () => {
    const first = await startWatch(["--port", "0", "--dir", dir, "--token", "t0k"]);
    assert.match(first.url, /^watch:\/\/127\.0\.0\.1:\d+$/);
    const c = createWatchClient({ url: first.url, auth: { token: "t0k" } });
    const bad = createWatchClient({ url: first.url, auth: { token: "wrong" } });
    try {
      assert.equal(await c.put("k", enc("v")), 1);
      await assert.rejects(bad.get("k"), (e: unknown) => GomsError.is(e) && e.code === Code.Unauthenticated);
    } finally {
      await c.close();
      await bad.close();
    }
    first.p.kill("SIGTERM");
    const [code] = (await once(first.p, "exit")) as [number | null];
    assert.equal(code, 0);
    assert.match(first.out(), /SIGTERM, closing/);

    const second = await startWatch(["--port", "0", "--dir", dir, "--token", "t0k"]);
    assert.match(second.out(), /at revision 1/);
    const c2 = createWatchClient({ url: second.url, auth: { token: "t0k" } });
    try {
      assert.equal(dec((await c2.get("k"))?.value), "v");
    } finally {
      await c2.close();
    }
    second.p.kill("SIGINT");
    const [code2] = (await once(second.p, "exit")) as [number | null];
    assert.equal(code2, 0);
  });

  it("rejects a bad port", async () => {
    const p = spawn(process.execPath, ["--import", "tsx", SCRIPT, "watch", "--port", "99999"], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(p);
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const [code] = (await once(p, "exit")) as [number | null];
    assert.notEqual(code, 0);
    assert.match(err, /port/);
  });
});
