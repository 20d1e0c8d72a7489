import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import type { NodeSummary } from "../../src/admin/index.js";
import { createWatchServer, type WatchServer } from "../../src/watch/index.js";
import { freePort, Procs } from "../procs.js";
import { waitFor } from "./wait.js";

// The journey with the real commands: `goms run examples/microservice/db.ts --instances 2`
// and `goms admin`, both real processes sharing a real watch server. The console must show the
// two copies as separate nodes of one program, through its API and in a real headless Chromium.

const CHROMIUM = "/usr/bin/chromium";
const PASSWORD = "operator password";
const TOKEN = "push-token-for-the-instances-test";

describe("goms run --instances 2 in the admin console", () => {
  const procs = new Procs();
  let watch: WatchServer;
  let dir: string;
  let adminUrl = "";
  let run: Awaited<ReturnType<Procs["start"]>>;
  let cookie = "";
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (Debian package chromium)`);
    if (!existsSync(resolve(import.meta.dirname, "../../dist/admin-ui/index.html"))) throw new Error("dist/admin-ui is not built: run npm run build");
    watch = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 } }).start();
    dir = await mkdtemp(join(tmpdir(), "goms-admin-instances-"));
    const adminPort = await freePort();
    await procs.start(
      ["src/cli/main.ts", "admin", "--port", String(adminPort), "--node-port", "0", "--registry", watch.url, "--data-dir", dir, "--token", TOKEN],
      /goms admin on http/,
      { GOMS_ADMIN_PASSWORD: PASSWORD, GOMS_TTL_MS: "1000" },
      60_000,
    );
    adminUrl = `http://127.0.0.1:${adminPort}`;
    run = await procs.start(
      ["src/cli/main.ts", "run", "examples/microservice/db.ts", "--instances", "2", "--port", "0", "--registry", watch.url],
      /\[0\] db0 serving[\s\S]*\[1\] db1 serving|\[1\] db1 serving[\s\S]*\[0\] db0 serving/,
      // The db copies push their stats to the admin node (found in the registry) with its token.
      { GOMS_TOKEN: TOKEN, GOMS_MONITOR_INTERVAL_MS: "250", GOMS_TTL_MS: "1000" },
      60_000,
    );
    const r = await fetch(adminUrl + "/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "admin", password: PASSWORD }) });
    assert.equal(r.status, 200);
    cookie = r.headers.get("set-cookie")!.split(";")[0]!;
  });

  after(async () => {
    await browser?.close();
    // SIGTERM: `goms run` drains its copies (SIGKILL would leave them running).
    await procs.stopAll();
    await watch?.close({ graceMs: 0 });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const nodes = async (): Promise<NodeSummary[]> => ((await (await fetch(adminUrl + "/api/nodes", { headers: { cookie } })).json()) as { nodes: NodeSummary[] }).nodes;

  it("the API lists both copies as separate, registered, monitored nodes of program db", async () => {
    let dbs: NodeSummary[] = [];
    await waitFor(
      async () => {
        dbs = (await nodes()).filter((n) => n.name === "db0" || n.name === "db1");
        return dbs.length === 2 && dbs.every((n) => n.registered && n.monitored && !n.stale);
      },
      30_000,
      "db0 and db1 registered and pushing stats",
    );
    dbs.sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(
      dbs.map((n) => [n.name, n.id, n.program]),
      [
        ["db0", 0, "db"],
        ["db1", 1, "db"],
      ],
    );
    // Nodes of their own: each its own port (GOMS_PORT=0: a free one each), the ones the copies printed.
    const printed = new Map([...run.out().matchAll(/\] (db\d) serving goms\.examples\.v1\.DB on 127\.0\.0\.1:(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    assert.equal(dbs[0]!.address, `127.0.0.1:${printed.get("db0")}`);
    assert.equal(dbs[1]!.address, `127.0.0.1:${printed.get("db1")}`);
    assert.notEqual(dbs[0]!.address, dbs[1]!.address);
    for (const n of dbs) assert.ok(n.services.includes("goms.examples.v1.DB"), `${n.name}: ${n.services.join(",")}`);
  });

  it("the console in headless Chromium shows db0 and db1 as two rows of program db ×2", async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(adminUrl + "/");
    await page.locator("input[name=user]").waitFor();
    await page.fill("input[name=user]", "admin");
    await page.fill("input[name=password]", PASSWORD);
    await page.click("button[type=submit]");
    await page.locator("header .who").getByText("admin").waitFor();
    await page.goto(adminUrl + "/#/nodes");
    for (const name of ["db0", "db1"]) {
      const row = page.locator(`tr[data-node=${name}]`);
      await row.locator(".badge.ok").waitFor({ timeout: 20_000 });
      assert.equal(await row.getAttribute("data-program"), "db");
      assert.match((await row.locator("td[data-col=program]").textContent()) ?? "", /^db ×2$/);
    }
    assert.equal(await page.locator("tr[data-program=db]").count(), 2);
  });
});
