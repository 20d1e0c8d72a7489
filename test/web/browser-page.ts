import { existsSync } from "node:fs";
import http from "node:http";
import { builtinModules } from "node:module";
import { resolve } from "node:path";
import { build, type Plugin } from "vite";
import { chromium, type Browser, type Page } from "playwright-core";
import type { NodeSet } from "../helpers.js";
import { startWebEnv, type WebEnv } from "./env.js";
import type { GatewayOptions } from "../../src/gateway/index.js";

const CHROMIUM = "/usr/bin/chromium";
const PAGE_DIR = resolve(import.meta.dirname, "page");

export interface BrowserPage {
  env: WebEnv;
  page: Page;
  close(): Promise<void>;
}

/** A Node built-in anywhere in goms/web's imports fails the build (Vite would only stub it out with a warning). */
const noNodeBuiltins: Plugin = {
  name: "no-node-builtins",
  enforce: "pre",
  resolveId(id, importer) {
    if (id.startsWith("node:") || builtinModules.includes(id)) throw new Error(`${importer ?? "?"} imports the Node built-in ${id}: goms/web must run in browsers`);
    return null;
  },
};

/** Builds the page `html` of test/web/page with Vite, in memory, as a browser app is built: URL path -> file. */
async function buildPage(html: string): Promise<Map<string, string | Uint8Array>> {
  const r = await build({
    root: PAGE_DIR,
    configFile: false,
    logLevel: "silent",
    plugins: [noNodeBuiltins],
    build: { write: false, target: "es2022", modulePreload: false, rollupOptions: { input: resolve(PAGE_DIR, html) } },
  });
  const files = new Map<string, string | Uint8Array>();
  for (const out of Array.isArray(r) ? r : [r]) {
    if (!("output" in out)) throw new Error("vite build returned a watcher");
    for (const f of out.output) files.set(`/${f.fileName}`, f.type === "chunk" ? f.code : f.source);
  }
  return files;
}

const TYPES: Record<string, string> = { html: "text/html", js: "text/javascript" };

/**
 * Headless Chromium (Debian's, never downloaded) on the page `html` of
 * test/web/page (built with Vite), served from an origin of its own, next to
 * a web environment (env.ts) whose gateway allows that origin (CORS) and has
 * `gwOpts`. Resolves once the page set `global`.
 */
export async function openBrowserPage(nodes: NodeSet, html: string, global: string, gwOpts: Partial<GatewayOptions> = {}): Promise<BrowserPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (Debian package chromium)`);
  const files = await buildPage(html);
  const site = http.createServer((req, res) => {
    const path = req.url === "/" ? `/${html}` : (req.url ?? "");
    const body = files.get(path);
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { "content-type": TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream" }).end(body);
  });
  await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  let env: WebEnv | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    site.close();
    await env?.gw.close();
  };
  try {
    env = await startWebEnv(nodes, { cors: { origins: [origin] }, ...gwOpts });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    const page = await browser.newPage();
    await page.goto(origin);
    await page.waitForFunction((g) => (globalThis as Record<string, unknown>)[g] !== undefined, global);
    return { env, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}
