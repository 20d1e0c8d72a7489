import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { Code, GomsError } from "../../src/rpc/index.js";
import { AddServer } from "../../src/gen/goms/examples/v1/add_pb.js";
import { NodeSet } from "../helpers.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

// Certificates made at test time with the system openssl (installed by scripts/setup-system.sh).
let dir = "";
const pem: Record<string, Buffer> = {};
function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}
before(() => {
  dir = mkdtempSync(join(tmpdir(), "goms-tls-"));
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=goms-test-ca");
  for (const name of ["server", "client", "rogue"]) {
    const signer = name === "rogue" ? ["-signkey", `${name}.key`] : ["-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"];
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    openssl("x509", "-req", "-in", `${name}.csr`, ...signer, "-out", `${name}.crt`, "-days", "1", "-extfile", "san.ext");
  }
  for (const f of ["ca.crt", "server.key", "server.crt", "client.key", "client.crt", "rogue.key", "rogue.crt"]) pem[f] = readFileSync(join(dir, f));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const impl = { add: (r: { a: number; b: number }) => ({ sum: r.a + r.b }) };

describe("TLS, mTLS and tokens", () => {
  it("TLS: a client that trusts the CA calls; one that does not is refused", async () => {
    const s = await nodes.start({ name: "tls", port: 0, tls: { key: pem["server.key"]!, cert: pem["server.crt"]! } }, (n) => n.service(AddServer, impl));
    const good = await nodes.start({ name: "good", peers: [{ host: "127.0.0.1", port: s.port }], peerTls: { ca: pem["ca.crt"]! } });
    assert.equal((await good.client(AddServer).add({ a: 2, b: 3 })).sum, 5);
    const bad = await nodes.start({ name: "bad", peers: [{ host: "127.0.0.1", port: s.port }], peerTls: {} });
    await assert.rejects(bad.client(AddServer).add({}), (e: GomsError) => e.code === Code.Unavailable);
    const peer = [...bad.router.peers.values()][0]!;
    assert.match(peer.lastError?.message ?? "", /certificate/i);
  });

  it("mTLS: the server sees the client certificate; clients without a CA-signed one are refused", async () => {
    let cn: string | undefined;
    const s = await nodes.start(
      { name: "mtls", port: 0, tls: { key: pem["server.key"]!, cert: pem["server.crt"]!, ca: pem["ca.crt"]!, requestClientCert: true } },
      (n) =>
        n.service(AddServer, {
          add: (r, ctx) => {
            cn = ctx.peer.certificateCN;
            return { sum: r.a + r.b };
          },
        }),
    );
    const good = await nodes.start({
      name: "good",
      peers: [{ host: "127.0.0.1", port: s.port }],
      peerTls: { ca: pem["ca.crt"]!, cert: pem["client.crt"]!, key: pem["client.key"]! },
    });
    assert.equal((await good.client(AddServer).add({ a: 1, b: 1 })).sum, 2);
    assert.equal(cn, "client");
    for (const peerTls of [{ ca: pem["ca.crt"]! }, { ca: pem["ca.crt"]!, cert: pem["rogue.crt"]!, key: pem["rogue.key"]! }]) {
      const bad = await nodes.start({ name: `bad-${Math.random()}`, peers: [{ host: "127.0.0.1", port: s.port }], peerTls });
      await assert.rejects(bad.client(AddServer).add({}, { timeoutMs: 2000 }), (e: GomsError) => e.code === Code.Unavailable);
    }
  });

  it("token: callers without the right token are refused with unauthenticated", async () => {
    const s = await nodes.start({ name: "tok", port: 0, token: "s3cret" }, (n) => n.service(AddServer, impl));
    const good = await nodes.start({ name: "good", peers: [{ host: "127.0.0.1", port: s.port }], token: "s3cret" });
    assert.equal((await good.client(AddServer).add({ a: 1, b: 2 })).sum, 3);
    const bad = await nodes.start({ name: "bad", peers: [{ host: "127.0.0.1", port: s.port }], token: "wrong" });
    await assert.rejects(bad.client(AddServer).add({}), (e: GomsError) => e.code === Code.Unavailable);
    const peer = [...bad.router.peers.values()][0]!;
    assert.equal(peer.lastError?.code, Code.Unauthenticated);
    assert.match(peer.lastError?.message ?? "", /invalid or missing token/);
  });
});
