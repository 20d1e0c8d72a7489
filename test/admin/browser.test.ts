import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { createAdmin, type Admin } from "../../src/admin/index.js";
import { createRegistry, registryFromUrl, type KvBackend } from "../../src/registry/index.js";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { createWatchServer } from "../../src/watch/server.js";
import { watchSchemes } from "../../src/watch/index.js";
import { freePort } from "../procs.js";
import { createMonitorStore, MonitorService } from "../../src/monitor/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { startSupervisord, type Supervisord } from "./supervisord.js";
import { waitFor } from "./wait.js";

// The operator's journey in a real headless Chromium (Debian package, never downloaded):
// log in, watch live numbers, call DB.Query from the form, restart a node through a
// real supervisord and watch it go stale and come back, find it in the audit log.

const CHROMIUM = "/usr/bin/chromium";
// docs/screenshots is refreshed with GOMS_UPDATE_SCREENSHOTS=1; otherwise shots go to a temp dir (the tree stays clean).
const UPDATE_DOCS = process.env["GOMS_UPDATE_SCREENSHOTS"] === "1";
let SHOTS = resolve(import.meta.dirname, "../../docs/screenshots");

describe("admin console in headless Chromium", () => {
  let sup: Supervisord;
  let watch: { port: number; close(): Promise<void> };
  let kv: KvBackend;
  let node: GomsNode;
  let admin: Admin;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let load: NodeJS.Timeout | undefined;
  // The real monitor store: the db nodes (run by supervisord) push their stats every 250 ms.
  const store = createMonitorStore({ staleAfterMs: 600, sweepMs: 100 });

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (Debian package chromium)`);
    if (!existsSync(resolve(import.meta.dirname, "../../dist/admin-ui/index.html"))) throw new Error("dist/admin-ui is not built: run npm run build");
    watch = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 } }).start();
    const registry = `watch://127.0.0.1:${watch.port}`;
    const [p0, p1] = await Promise.all([freePort(), freePort()]);
    const env = { GOMS_TTL_MS: "1000", GOMS_MONITOR_INTERVAL_MS: "250" };
    sup = await startSupervisord([
      { name: "db0", args: ["examples/microservice/db.ts", "--id", "0", "--port", String(p0), "--registry", registry], env },
      { name: "db1", args: ["examples/microservice/db.ts", "--id", "1", "--port", String(p1), "--registry", registry], env },
    ]);
    kv = await registryFromUrl(registry, { schemes: watchSchemes });
    const adminNode = createNode({ identity: { name: "admin" }, listen: { port: 0 }, discovery: { registry: createRegistry({ kv, ttlMs: 1000 }) } });
    adminNode.service(MonitorService, store.service());
    node = await adminNode.start();
    // A little traffic so the numbers move.
    const db = node.client(DB);
    load = setInterval(() => {
      for (let i = 0; i < 5; i++) void db.query({ key: "a" }, { timeoutMs: 500 }).catch(() => undefined);
    }, 50);
    dir = await mkdtemp(join(tmpdir(), "goms-admin-ui-"));
    admin = await createAdmin({ node, store, registry: kv, dataDir: dir, listen: { port: 0 }, supervisors: [{ name: "local", url: sup.url }], bootstrapUser: { name: "ops", password: "operator password" }, pollMs: 300 }).start();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    if (!UPDATE_DOCS) SHOTS = join(dir, "screenshots");
    await mkdir(SHOTS, { recursive: true });
  });

  after(async () => {
    if (load) clearInterval(load);
    store.close();
    await browser?.close();
    await admin?.close();
    await node?.close({ graceMs: 0 });
    await sup?.stop();
    await kv?.close();
    await watch?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

  it("logs in", async () => {
    await page.goto(admin.url + "/");
    await page.locator("input[name=user]").waitFor();
    await shot("login");
    await page.fill("input[name=user]", "ops");
    await page.fill("input[name=password]", "wrong password");
    await page.click("button[type=submit]");
    await page.locator(".error").waitFor();
    await page.fill("input[name=password]", "operator password");
    await page.click("button[type=submit]");
    await page.locator("header .who").getByText("ops").waitFor();
  });

  it("sees the nodes with live numbers", async () => {
    await page.goto(admin.url + "/#/nodes");
    const qps = page.locator("tr[data-node=db0] td[data-col=qps]");
    await waitFor(async () => /\d/.test((await qps.textContent()) ?? ""), 20_000, "db0 qps shown");
    const first = await qps.textContent();
    await waitFor(async () => (await qps.textContent()) !== first, 5000, "db0 qps changes live");
    await page.locator("tr[data-node=db1] .badge.ok").waitFor();
    // db0 and db1 are two copies of one program: listed together, each with its admission limit (on by default).
    for (const name of ["db0", "db1"]) {
      assert.equal(await page.locator(`tr[data-node=${name}]`).getAttribute("data-program"), "db");
      assert.match((await page.locator(`tr[data-node=${name}] td[data-col=program]`).textContent()) ?? "", /^db ×2$/);
      await waitFor(async () => /^\d+$/.test((await page.locator(`tr[data-node=${name}] td[data-col=limit]`).textContent()) ?? ""), 5000, `${name} limit shown`);
      assert.equal(await page.locator(`tr[data-node=${name}] td[data-col=ejected]`).textContent(), "0");
      // Hedges sent per second, from the counters every push carries (hover: the counts since start).
      const hedges = page.locator(`tr[data-node=${name}] td[data-col=hedges]`);
      await waitFor(async () => /^\d+(\.\d+)?$/.test((await hedges.textContent()) ?? ""), 5000, `${name} hedges/s shown`);
      assert.match((await hedges.getAttribute("title")) ?? "", /since start: \d+ sent, \d+ won, \d+ refused/);
    }
    await shot("nodes");
    await page.goto(admin.url + "/#/");
    const total = page.locator("[data-testid=total-qps]");
    await waitFor(async () => Number(((await total.textContent()) ?? "0").replace(/,/g, "")) > 0, 10_000, "total qps");
    await shot("overview");
    // A stream served by db0 (DB.Watch, from the admin node): db0's page shows its stream counters.
    const watching = new AbortController();
    const watched = (async () => {
      for await (const _ of node.client(DB).watch({ key: "a" }, { node: "db0", signal: watching.signal })) {
        // The current value, then changes: only db0's counters matter here.
      }
    })().catch(() => undefined);
    await page.goto(admin.url + "/#/nodes/db0");
    await page.locator(".chart canvas").first().waitFor();
    await page.locator(".chart", { hasText: "Hedges/s" }).waitFor();
    const streams = page.locator("[data-testid=node-streams]");
    await waitFor(async () => (await streams.count()) === 1, 10_000, "db0's stream counters on its page");
    assert.match((await streams.textContent()) ?? "", /^streams [1-9]\d* opened · [1-9]\d* messages sent · [1-9]\d* received · \d+ sends waited for the receiver$/);
    watching.abort();
    await watched;
    await page.waitForTimeout(1200);
    await shot("node-detail");
  });

  it("calls DB.Update then DB.Query from the form", async () => {
    await page.goto(admin.url + "/#/services");
    await page.getByText("goms.examples.v1.DB").waitFor();
    await shot("services");
    await page.goto(admin.url + "/#/call?service=goms.examples.v1.DB&method=Update");
    await page.locator("input[name=key]").waitFor();
    await page.selectOption("select[name=node]", "db0");
    await page.fill("input[name=key]", "greeting");
    await page.fill("input[name=value]", "hello from chromium");
    await page.click("form.call button[type=submit]");
    await page.locator("[data-testid=call-result]").getByText("served by db0").waitFor();
    await page.selectOption("select[name=method]", "Query");
    await page.locator("input[name=value]").waitFor({ state: "detached" });
    await page.selectOption("select[name=node]", "db0");
    await page.fill("input[name=key]", "greeting");
    await page.click("form.call button[type=submit]");
    await page.locator("[data-testid=call-result]").getByText("hello from chromium").waitFor();
    await shot("call");
  });

  it("browses the registry", async () => {
    await page.goto(admin.url + "/#/registry");
    await page.getByText("goms/nodes/default/db0").waitFor();
    await page.getByText("goms/nodes/default/db0").click();
    await shot("registry");
  });

  it("restarts db0 (confirm), sees it go stale and come back", async () => {
    await page.goto(admin.url + "/#/processes");
    const row = page.locator("tr[data-process=db0]");
    await row.locator("[data-col=state]").getByText("RUNNING").waitFor();
    const pidBefore = await row.locator("td.num").first().textContent();
    await row.getByRole("button", { name: "restart" }).click();
    await page.locator("dialog.confirm").waitFor();
    await shot("processes-confirm");
    await page.click("[data-testid=confirm]");
    await page.goto(admin.url + "/#/nodes");
    await page.locator("tr[data-node=db0].is-stale .badge.stale").waitFor({ timeout: 15_000 });
    await shot("nodes-stale");
    await page.locator("tr[data-node=db0]:not(.is-stale) .badge.ok").waitFor({ timeout: 20_000 });
    await page.goto(admin.url + "/#/processes");
    await row.locator("[data-col=state]").getByText("RUNNING").waitFor({ timeout: 15_000 });
    const pidAfter = await row.locator("td.num").first().textContent();
    assert.notEqual(pidAfter, pidBefore);
    await row.getByRole("button", { name: "log" }).click();
    await page.locator("pre.log").getByText("db0 serving").first().waitFor();
    await shot("processes");
  });

  it("finds the restart and the calls in the audit log", async () => {
    await page.goto(admin.url + "/#/audit");
    const table = page.locator("[data-testid=audit-table]");
    await table.locator("tr", { hasText: "process.restart" }).filter({ hasText: "local/db0" }).filter({ hasText: "ops" }).first().waitFor();
    await table.locator("tr", { hasText: "goms.examples.v1.DB/Query@db0" }).first().waitFor();
    await table.locator("tr", { hasText: "login" }).filter({ hasText: "denied" }).first().waitFor();
    await shot("audit");
  });
});
