// goms/web in real headless Chromium (Debian's, never downloaded): a page
// built with Vite from test/web/page/index.html (main.ts), served from its own origin,
// calls a real gateway (CORS) in front of a real node over TCP. A unary call,
// a server stream, a stream error, a bidi exchange and a client stream over
// WebSocket, an abort that ends the server handler, and resumeStream
// following DB.Watch while the gateway is closed and started again.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { NodeSet, until } from "../helpers.js";
import type { WebEnv } from "./env.js";
import { openBrowserPage, type BrowserPage } from "./browser-page.js";

interface PageApi {
  unary(baseUrl: string, key: string, value: string): Promise<string>;
  stream(baseUrl: string, count: number, failAfter: number): Promise<{ got: number[]; error?: { code: string; ret: number; message: string } }>;
  bidi(baseUrl: string, n: number): Promise<{ echoed: number[]; sum: string }>;
  abortAfter(baseUrl: string, n: number): Promise<{ got: number; error: { code: string; ret: number; message: string } | undefined }>;
  follow(baseUrl: string, key: string): void;
  followed(): { values: string[]; retries: string[]; ended: { code: string; ret: number; message: string } | undefined };
  stopFollow(): void;
}
type PageWindow = { gomsWeb: PageApi };

describe("goms/web in headless Chromium", () => {
  const nodes = new NodeSet();
  let b: BrowserPage;
  let env: WebEnv;
  let page: Page;

  before(async () => {
    b = await openBrowserPage(nodes, "index.html", "gomsWeb");
    ({ env, page } = b);
  });

  after(async () => {
    await b?.close();
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

  it("resumeStream in the page follows DB.Watch while the gateway is closed and started again on its port", async () => {
    const api = (): Promise<ReturnType<PageApi["followed"]>> => page.evaluate(() => (globalThis as unknown as PageWindow).gomsWeb.followed());
    const update = (value: string) => page.evaluate(([u, v]) => (globalThis as unknown as PageWindow).gomsWeb.unary(u!, "followed", v!), [env.baseUrl, value]);
    await update("v1");
    await page.evaluate(([u]) => (globalThis as unknown as PageWindow).gomsWeb.follow(u!, "followed"), [env.baseUrl]);
    await until(async () => (await api()).values.length === 1, 5000, "the current value in the page");
    const port = env.gw.port;
    await env.gw.close({ graceMs: 0 });
    // The key changes on the node while the page cannot reach the gateway.
    await env.server.client(DB).update({ key: "followed", value: "v2" });
    await until(async () => (await api()).retries.length >= 2, 5000, "the page's failed attempts while the gateway is down");
    env.gw = await env.startGateway(port);
    await until(async () => (await api()).values.includes("v2"), 10_000, "the value set while the gateway was down, in the page");
    await update("v3");
    await until(async () => (await api()).values.includes("v3"), 5000, "a change after the reconnect");
    const seen = await api();
    assert.deepEqual(seen.values, ["v1", "v2", "v3"]);
    assert.ok(seen.retries.every((c) => c === "14"), `every retry was unavailable (14): ${seen.retries.join(",")}`);
    assert.equal(seen.ended, undefined);
    await page.evaluate(() => (globalThis as unknown as PageWindow).gomsWeb.stopFollow());
    await until(async () => (await api()).ended?.code === "1", 5000, "the follow to end with canceled");
  });

  it("aborting a stream in the page ends the server's handler", async () => {
    const before = env.probe.finallyRan;
    const r = await page.evaluate(([u]) => (globalThis as unknown as PageWindow).gomsWeb.abortAfter(u!, 3), [env.baseUrl]);
    assert.equal(r.got, 3);
    assert.equal(r.error?.code, "1", "canceled");
    await until(() => env.probe.finallyRan === before + 1, 5000, "the server generator's finally");
  });
});
