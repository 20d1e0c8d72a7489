import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCerts {
  /** PEM contents by file name: ca.crt, server.key/.crt, client.key/.crt, rogue.key/.crt (self-signed). */
  pem: Record<string, Buffer>;
  cleanup(): void;
}

/** A CA, a server and a client certificate signed by it, and a self-signed "rogue" one, made with the system openssl. */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "goms-tls-"));
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=goms-test-ca");
  for (const name of ["server", "client", "rogue"]) {
    const signer = name === "rogue" ? ["-signkey", `${name}.key`] : ["-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"];
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    openssl("x509", "-req", "-in", `${name}.csr`, ...signer, "-out", `${name}.crt`, "-days", "1", "-extfile", "san.ext");
  }
  const pem: Record<string, Buffer> = {};
  for (const f of ["ca.crt", "server.key", "server.crt", "client.key", "client.crt", "rogue.key", "rogue.crt"]) pem[f] = readFileSync(join(dir, f));
  return { pem, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
