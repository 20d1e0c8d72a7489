import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { NodeSet } from "../helpers.js";
import { makeCerts, type TestCerts } from "../certs.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

// Certificates made at test time with the system openssl (installed by scripts/setup-system.sh).
let certs: TestCerts;
const pem: Record<string, Buffer> = {};
before(() => {
  certs = makeCerts();
  Object.assign(pem, certs.pem);
});
after(() => certs.cleanup());

const impl = { add: (r: { a: number; b: number }) => ({ sum: r.a + r.b }) };

describe("TLS, mTLS and tokens", () => {
  it("TLS: a client that trusts the CA calls; one that does not is refused", async () => {
    const s = await nodes.start({ identity: { name: "tls" }, listen: { port: 0, tls: { key: pem["server.key"]!, cert: pem["server.crt"]! } } }, (n) => n.service(AddServer, impl));
    const good = await nodes.start({ identity: { name: "good" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }], tls: { ca: pem["ca.crt"]! } } });
    assert.equal((await good.client(AddServer).add({ a: 2, b: 3 })).sum, 5);
    const bad = await nodes.start({ identity: { name: "bad" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }], tls: {} } });
    await assert.rejects(bad.client(AddServer).add({}), (e: GomsError) => e.code === Code.Unavailable);
    const peer = bad.peerList()[0]!;
    assert.match(peer.lastError?.message ?? "", /certificate/i);
  });

  it("mTLS: the server sees the client certificate; clients without a CA-signed one are refused", async () => {
    let cn: string | undefined;
    const s = await nodes.start(
      { identity: { name: "mtls" }, listen: { port: 0, tls: { key: pem["server.key"]!, cert: pem["server.crt"]!, ca: pem["ca.crt"]!, requestClientCert: true } } },
      (n) =>
        n.service(AddServer, {
          add: (r, ctx) => {
            cn = ctx.peer.certificateCN;
            return { sum: r.a + r.b };
          },
        }),
    );
    const good = await nodes.start({
      identity: { name: "good" },
      peers: { addresses: [{ host: "127.0.0.1", port: s.port }], tls: { ca: pem["ca.crt"]!, cert: pem["client.crt"]!, key: pem["client.key"]! } },
    });
    assert.equal((await good.client(AddServer).add({ a: 1, b: 1 })).sum, 2);
    assert.equal(cn, "client");
    for (const peerTls of [{ ca: pem["ca.crt"]! }, { ca: pem["ca.crt"]!, cert: pem["rogue.crt"]!, key: pem["rogue.key"]! }]) {
      const bad = await nodes.start({ identity: { name: `bad-${Math.random()}` }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }], tls: peerTls } });
      await assert.rejects(bad.client(AddServer).add({}, { timeoutMs: 2000 }), (e: GomsError) => e.code === Code.Unavailable);
    }
  });

  it("token: callers without the right token are refused with unauthenticated", async () => {
    const s = await nodes.start({ identity: { name: "tok" }, listen: { port: 0 }, auth: { token: "s3cret" } }, (n) => n.service(AddServer, impl));
    const good = await nodes.start({ identity: { name: "good" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] }, auth: { token: "s3cret" } });
    assert.equal((await good.client(AddServer).add({ a: 1, b: 2 })).sum, 3);
    const bad = await nodes.start({ identity: { name: "bad" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] }, auth: { token: "wrong" } });
    await assert.rejects(bad.client(AddServer).add({}), (e: GomsError) => e.code === Code.Unavailable);
    const peer = bad.peerList()[0]!;
    assert.equal(peer.lastError?.code, Code.Unauthenticated);
    assert.match(peer.lastError?.message ?? "", /invalid or missing token/);
  });
});
