import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { createRegistry, registryFromUrl } from "../../src/registry/index.js";
import { watchSchemes } from "../../src/watch/index.js";
import { requireSupervisord } from "../admin/supervisord.js";
import { freePort } from "../procs.js";

// The configs in examples/supervisord run for real: the file as shipped, with only
// its fixed ports and /tmp paths swapped for free ones (tests run side by side).
const repo = resolve(import.meta.dirname, "../..");
const running: ChildProcess[] = [];
after(() => {
  for (const p of running) if (p.exitCode === null) p.kill("SIGKILL");
});

async function runExample(file: string): Promise<void> {
  const bin = requireSupervisord();
  const dir = await mkdtemp(join(tmpdir(), "goms-sv-example-"));
  const [httpPort, watchPort] = [await freePort(), await freePort()];
  const conf = (await readFile(join(repo, "examples/supervisord", file), "utf8"))
    .replaceAll("/tmp/goms-supervisor", dir)
    .replaceAll("127.0.0.1:9001", `127.0.0.1:${httpPort}`)
    .replaceAll("12345", String(watchPort))
    .replaceAll("%(here)s/../..", repo);
  assert.doesNotMatch(conf, /9001|12345|\/tmp\/goms-supervisor/, "every fixed port and path was swapped");
  const confPath = join(dir, file);
  await writeFile(confPath, conf);
  const sv = spawn(bin, ["-c", confPath, "-n"], { stdio: ["ignore", "pipe", "pipe"] });
  running.push(sv);
  let out = "";
  sv.stdout.on("data", (d: Buffer) => (out += d.toString()));
  sv.stderr.on("data", (d: Buffer) => (out += d.toString()));

  const kv = await registryFromUrl(`watch://127.0.0.1:${watchPort}`, { schemes: watchSchemes });
  const registry = createRegistry({ kv });
  try {
    let names: string[] = [];
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline && sv.exitCode === null) {
      names = await registry.list().then(
        (r) => r.nodes.map((n) => n.node!.name).sort(),
        () => [],
      );
      if (names.includes("db0") && names.includes("db1")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(names, ["db0", "db1"], `${file}: registered ${names.join(",")}\n${out}`);
    // supervisord's own stop: SIGTERM to each program, which drains and exits.
    sv.kill("SIGTERM");
    const [code] = (await once(sv, "exit")) as [number | null];
    assert.equal(code, 0, out);
    assert.doesNotMatch(await readFile(join(dir, "supervisord.log"), "utf8"), /SIGKILL/, "every program stopped within stopwaitsecs");
  } finally {
    await registry.close();
    await kv.close();
  }
}

describe("examples/supervisord", () => {
  it("instances.conf: one supervisord program, `goms run --instances 2`, registers db0 and db1 and stops cleanly", () => runExample("instances.conf"));
  it("numbered.conf: numprocs=2 with the GOMS_* convention registers db0 and db1 and stops cleanly", () => runExample("numbered.conf"));
});
