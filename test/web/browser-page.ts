import { existsSync } from "node:fs";
import http from "node:http";
import { resolve } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import type { NodeSet } from "../helpers.js";
import { startWebEnv, type WebEnv } from "./env.js";
import type { GatewayOptions } from "../../src/gateway/index.js";

const CHROMIUM = "/usr/bin/chromium";

export interface BrowserPage {
  env: WebEnv;
  page: Page;
  close(): Promise<void>;
}

/**
 * Headless Chromium (Debian's, never downloaded) on a page of its own origin
 * that runs `script` (under test/web/page/, bundled with esbuild for the
 * browser), next to a web environment (env.ts) whose gateway allows that
 * origin (CORS) and has `gwOpts`. Resolves once the page set `global`.
 */
export async function openBrowserPage(nodes: NodeSet, script: string, global: string, gwOpts: Partial<GatewayOptions> = {}): Promise<BrowserPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (Debian package chromium)`);
  // platform "browser": a Node built-in anywhere in goms/web's imports fails the bundle.
  const bundle = await build({ entryPoints: [resolve(import.meta.dirname, "page", script)], bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "silent" });
  const js = bundle.outputFiles[0]!.text;
  const site = http.createServer((req, res) => {
    if (req.url === "/main.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js);
    else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><title>goms/web</title><script type="module" src="/main.js"></script>');
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
