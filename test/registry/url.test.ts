import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { registryFromUrl } from "../../src/registry/url.js";
import { createRegistry } from "../../src/registry/registry.js";
import { create } from "@bufbuild/protobuf";
import { NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";

async function rejectsWith(p: Promise<unknown>, code: Code): Promise<void> {
  await assert.rejects(p, (e: unknown) => GomsError.is(e) && e.code === code);
}

describe("registryFromUrl", () => {
  it("embedded: gives a working in-process backend", async () => {
    const kv = await registryFromUrl("embedded:");
    assert.equal(kv.kind, "embedded");
    const r = createRegistry({ kv });
    const reg = await r.register(create(NodeIdentitySchema, { name: "n1" }));
    assert.equal(reg.key, "goms/nodes/default/n1");
    assert.equal((await r.list()).nodes.length, 1);
    await r.close();
    assert.equal((await r.list()).nodes.length, 0);
    await kv.close();
  });

  it("etcd:// gives an etcd backend (lazy connect) for one or more hosts", async () => {
    const kv = await registryFromUrl("etcd://127.0.0.1:1,127.0.0.1:2");
    assert.equal(kv.kind, "etcd");
    // Nothing listens there: Unavailable, not a hang or an untyped error.
    await rejectsWith(kv.get("x"), Code.Unavailable);
    await kv.close();
  });

  it("rejects malformed and unknown URLs with InvalidArgument", async () => {
    for (const u of ["", "etcd://", "etcd://host", "etcd://h:1,", "http://h:1", "watch://nohost", "embedded"]) {
      await rejectsWith(registryFromUrl(u), Code.InvalidArgument);
    }
  });

  it("watch:// loads src/watch/client.ts lazily, or fails with Unimplemented", async () => {
    const present = existsSync(new URL("../../src/watch/client.ts", import.meta.url));
    const p = registryFromUrl("watch://127.0.0.1:1");
    if (present) {
      const kv = await p;
      assert.equal(kv.kind, "watch");
      await kv.close();
    } else {
      await rejectsWith(p, Code.Unimplemented);
    }
  });
});
