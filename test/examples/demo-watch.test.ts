// The demo as a real process, followed the way its output says: the printed
// `curl -N` line for DB/Watch run exactly as printed, the printed `goms call
// ... DB.Watch` line, and the page it links (goms/web, built by Vite) in
// headless Chromium (Debian's, never downloaded).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { freePort, Procs } from "../procs.js";
import { until } from "../helpers.js";

const CHROMIUM = "/usr/bin/chromium";
/** The page's globals this test reads (the test is compiled without the DOM library; the page's CSP forbids eval). */
type PageGlobals = { document: { getElementById(id: string): { textContent: string | null } | null } };
const procs = new Procs();

/** A shell running one printed line; its stdout so far. */
function shell(line: string): { p: ChildProcess; out: () => string } {
  const p = spawn("bash", ["-c", line], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { p, out: () => out };
}

/** Stops a shell and what it started (its process group). */
async function stop(p: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = once(p, "exit");
  process.kill(-p.pid!, signal);
  await exited;
}

describe("the demo's DB.Watch lines and page", () => {
  let output: () => string;
  let base: string;
  let browser: Browser | undefined;

  before(async () => {
    if (!existsSync("dist/demo-page/index.html")) throw new Error("dist/demo-page is not built: run npm run build");
    const [port, httpPort, adminPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const demo = await procs.start(["examples/demo/main.ts", "--port", String(port), "--http-port", String(httpPort), "--admin-port", String(adminPort)], /Press Ctrl-C/);
    output = demo.out;
    base = `http://127.0.0.1:${httpPort}`;
  });
  after(async () => {
    await browser?.close();
    procs.killAll();
  });

  const printed = (re: RegExp): string => {
    const line = output()
      .split("\n")
      .map((l) => l.trim())
      .find((l) => re.test(l));
    assert.ok(line !== undefined, `the demo prints a line matching ${re}:\n${output()}`);
    return line;
  };
  const update = async (key: string, value: string): Promise<void> => {
    const r = await fetch(`${base}/api/DB/Update`, { method: "POST", body: JSON.stringify({ key, value }), headers: { "content-type": "application/json" } });
    assert.equal(r.status, 200);
  };

  it("the printed curl -N line shows the key's value, then each change as it happens", async () => {
    const line = printed(/^curl -N .*\/api\/DB\/Watch$/);
    assert.equal(line, `curl -N -H 'x-goms-timeout-ms: 60000' -d '{"key":"123"}' ${base}/api/DB/Watch`);
    await update("123", "before");
    const curl = shell(line);
    try {
      await until(() => curl.out().includes('data: {"key":"123","value":"before","version":1}\n\n'), 30_000, "the current value");
      await update("123", "after");
      await until(() => curl.out().includes('data: {"key":"123","value":"after","version":2}\n\n'), 30_000, "the change");
      assert.equal(curl.out().match(/^event: message$/gm)?.length, 2, curl.out());
      assert.equal(curl.p.exitCode, null, "the stream is still open");
    } finally {
      await stop(curl.p);
    }
  });

  it("the printed goms call DB.Watch line prints each change as NDJSON; Ctrl-C ends it", async () => {
    const line = printed(/goms call --json .* DB\.Watch /);
    assert.match(line, /^npx goms call --json --addr 127\.0\.0\.1:\d+ DB\.Watch '\{"key":"123"\}' {3}# Ctrl-C stops it$/);
    // npx goms is this checkout's bin (dist/cli/main.js); the rest of the line runs as printed.
    const call = shell(line.replace(/^npx goms /, `exec ${process.execPath} dist/cli/main.js `));
    try {
      await until(() => /^\{"key":"123".*\}\n$/.test(call.out()), 30_000, "the current value");
      await update("123", "via-cli");
      await until(() => /\n\{"key":"123","value":"via-cli","version":\d+\}\n$/.test(call.out()), 30_000, "the change");
      await stop(call.p, "SIGINT");
      assert.equal(call.p.exitCode, 130, call.out());
    } finally {
      await stop(call.p, "SIGKILL");
    }
  });

  it("the linked page (goms/web, built by Vite) updates a key and follows it live in Chromium", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (Debian package chromium)`);
    const url = /page {6}(\S+)/.exec(printed(/^page /))?.[1];
    assert.equal(url, `${base}/watch/`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => errors.push(`console: ${m.text()}`));
    const shows = async (text: string): Promise<void> => {
      await page
        .waitForFunction((t) => (globalThis as unknown as PageGlobals).document.getElementById("watched")?.textContent === t, text, { timeout: 30_000 })
        .catch(async (e: unknown) => assert.fail(`the page never showed ${text}: ${String(e)}; status: ${await page.textContent("#status")}; ${errors.join("; ")}`));
    };
    await page.goto(url!);
    await page.fill("#key", "page-key");
    await page.dispatchEvent("#key", "change");
    await shows("(empty)");
    // A value put through the page's form comes back on its watch.
    await page.fill("#value", "typed in the page");
    await page.click("button[type=submit]");
    await shows("typed in the page");
    // A change from elsewhere (curl, another node) shows up live too.
    await update("page-key", "from outside");
    await shows("from outside");
    assert.equal(await page.textContent("#version"), "version 2");
    assert.deepEqual(errors, []);
  });
});
