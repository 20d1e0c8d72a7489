// goms/web in real headless Chromium (Debian's, never downloaded): a page
// built with Vite from test/web/page (index.html, main.ts), served from its own origin,
// calls a real gateway (CORS) in front of a real node over TCP. A unary call,
// a server stream, a stream error, a bidi exchange and a client stream over
// WebSocket, and an abort that ends the server handler.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import http from "node:http";
import { builtinModules } from "node:module";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { build, type Plugin } from "vite";
import { chromium, type Browser, type Page } from "playwright-core";
import { NodeSet, until } from "../helpers.js";
import { startWebEnv, type WebEnv } from "./env.js";

const CHROMIUM = "/usr/bin/chromium";

interface PageApi {
  unary(baseUrl: string, key: string, value: string): Promise<string>;
  stream(baseUrl: string, count: number, failAfter: number): Promise<{ got: number[]; error?: { code: string; ret: number; message: string } }>;
  bidi(baseUrl: string, n: number): Promise<{ echoed: number[]; sum: string }>;
  abortAfter(baseUrl: string, n: number): Promise<{ got: number; error: { code: string; ret: number; message: string } | undefined }>;
}
type PageWindow = { gomsWeb: PageApi };

/** A Node built-in anywhere in goms/web's imports fails the build (Vite would only stub it out with a warning). */
const noNodeBuiltins: Plugin = {
  name: "no-node-builtins",
  enforce: "pre",
  resolveId(id, importer) {
    if (id.startsWith("node:") || builtinModules.includes(id)) throw new Error(`${importer ?? "?"} imports the Node built-in ${id}: goms/web must run in browsers`);
    return null;
  },
};

/** Builds test/web/page with Vite, in memory: URL path -> file. */
async function buildPage(): Promise<Map<string, string | Uint8Array>> {
  const r = await build({
    root: resolve(import.meta.dirname, "page"),
    configFile: false,
    logLevel: "silent",
    plugins: [noNodeBuiltins],
    build: { write: false, target: "es2022", modulePreload: false },
  });
  const files = new Map<string, string | Uint8Array>();
  for (const out of Array.isArray(r) ? r : [r]) {
    if (!("output" in out)) throw new Error("vite build returned a watcher");
    for (const f of out.output) files.set(`/${f.fileName}`, f.type === "chunk" ? f.code : f.source);
  }
  return files;
}

const TYPES: Record<string, string> = { html: "text/html", js: "text/javascript" };

describe("goms/web in headless Chromium", () => {
  const nodes = new NodeSet();
  let env: WebEnv;
  let site: http.Server;
  let browser: Browser;
  let page: Page;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (Debian package chromium)`);
    const files = await buildPage();
    site = http.createServer((req, res) => {
      const path = req.url === "/" ? "/index.html" : (req.url ?? "");
      const body = files.get(path);
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { "content-type": TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream" }).end(body);
    });
    await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
    const origin = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
    env = await startWebEnv(nodes, { cors: { origins: [origin] } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    page = await browser.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => (globalThis as unknown as Partial<PageWindow>).gomsWeb !== undefined);
  });

  after(async () => {
    await browser?.close();
    site?.close();
    await env?.gw.close();
    await nodes.closeAll();
  });

  it("a unary call", async () => {
    const v = await page.evaluate(([u]) => (globalThis as unknown as PageWindow).gomsWeb.unary(u!, "k", "from the browser"), [env.baseUrl]);
    assert.equal(v, "from the browser");
  });

  it("a server stream, message by message to its end", async () => {
    const r = await page.evaluate(([u]) => (globalThis as unknown as PageWindow).gomsWeb.stream(u!, 25, 0), [env.baseUrl]);
    assert.deepEqual(r, { got: Array.from({ length: 25 }, (_, i) => i) });
  });

  it("a server stream that fails: the GomsError's code and ret reach the page", async () => {
    const r = await page.evaluate(([u]) => (globalThis as unknown as PageWindow).gomsWeb.stream(u!, 25, 4), [env.baseUrl]);
    assert.deepEqual(r, { got: [0, 1, 2, 3], error: { code: "9", ret: 77, message: "failed on purpose" } });
  });

  it("a bidi exchange and a client stream over the browser's WebSocket", async () => {
    const r = await page.evaluate(([u]) => (globalThis as unknown as PageWindow).gomsWeb.bidi(u!, 30), [env.baseUrl]);
    assert.deepEqual(r, { echoed: Array.from({ length: 30 }, (_, i) => i + 1), sum: "465" });
  });

  it("aborting a stream in the page ends the server's handler", async () => {
    const before = env.probe.finallyRan;
    const r = await page.evaluate(([u]) => (globalThis as unknown as PageWindow).gomsWeb.abortAfter(u!, 3), [env.baseUrl]);
    assert.equal(r.got, 3);
    assert.equal(r.error?.code, "1", "canceled");
    await until(() => env.probe.finallyRan === before + 1, 5000, "the server generator's finally");
  });
});
