// Browser auth on WebSocket streams in real headless Chromium (Debian's): the
// browser's WebSocket cannot send an Authorization header, so goms/web offers
// the token as a `goms.bearer.<base64url>` subprotocol next to goms.v1 and the
// gateway (JWT auth, CORS for the page's origin) authenticates the upgrade
// with it. Chromium itself checks that the gateway echoes goms.v1.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { NodeSet } from "../helpers.js";
import { openBrowserPage, type BrowserPage } from "./browser-page.js";

const SECRET = "browser-auth-test-secret-32-byte";

type PageApi = { gomsAuth: { echo(baseUrl: string, token: string | undefined, n: number): Promise<{ echoed: number[]; error?: string }> } };

describe("goms/web in headless Chromium: a bearer token on a WebSocket stream", () => {
  const nodes = new NodeSet();
  let b: BrowserPage;

  before(async () => {
    b = await openBrowserPage(nodes, "auth.html", "gomsAuth", { auth: [{ prefix: "/api/", jwt: { secret: SECRET } }] });
  });

  after(async () => {
    await b?.close();
    await nodes.closeAll();
  });

  it("with the token the bidi exchange runs; without it the upgrade is refused", async () => {
    const token = await new SignJWT({ sub: "browser" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
    const ok = await b.page.evaluate(([u, t]) => (globalThis as unknown as PageApi).gomsAuth.echo(u!, t, 5), [b.env.baseUrl, token]);
    assert.deepEqual(ok, { echoed: [1, 2, 3, 4, 5] });
    const anon = await b.page.evaluate(([u]) => (globalThis as unknown as PageApi).gomsAuth.echo(u!, undefined, 5), [b.env.baseUrl]);
    // A browser sees a refused upgrade as a close (1006), with no HTTP status: unavailable (14).
    assert.deepEqual(anon, { echoed: [], error: "14" });
  });
});
