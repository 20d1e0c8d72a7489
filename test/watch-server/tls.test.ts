import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { createWatchClient, createWatchServer } from "../../src/watch/index.js";
import { makeCerts, type TestCerts } from "../certs.js";

let certs: TestCerts;
before(() => (certs = makeCerts()));
after(() => certs.cleanup());

it("watch server over TLS with a token: a client with the CA and token works; others are refused", async () => {
  const { pem } = certs;
  const server = await createWatchServer({ listen: { host: "127.0.0.1", port: 0, tls: { key: pem["server.key"]!, cert: pem["server.crt"]! } }, auth: { token: "t0ken" } }).start();
  const url = `watch://127.0.0.1:${server.port}`;
  const good = createWatchClient({ url, auth: { token: "t0ken" }, tls: { ca: pem["ca.crt"]! } });
  const noCa = createWatchClient({ url, auth: { token: "t0ken" }, tls: {}, timeoutMs: 1500 });
  const noToken = createWatchClient({ url, tls: { ca: pem["ca.crt"]! }, timeoutMs: 1500 });
  try {
    const rev = await good.put("k", new TextEncoder().encode("v"));
    assert.ok(rev > 0);
    assert.equal(new TextDecoder().decode((await good.get("k"))!.value), "v");
    const w = good.watch("k", rev);
    await good.put("k", new TextEncoder().encode("v2"));
    const first = await w[Symbol.asyncIterator]().next();
    assert.equal(new TextDecoder().decode(first.value!.value!), "v2");
    w.stop();
    await assert.rejects(noCa.get("k"), (e: unknown) => GomsError.is(e) && e.code === Code.Unavailable);
    await assert.rejects(noToken.get("k"), (e: unknown) => GomsError.is(e) && (e.code === Code.Unauthenticated || e.code === Code.Unavailable));
  } finally {
    await Promise.all([good.close(), noCa.close(), noToken.close()]);
    await server.close();
  }
});
