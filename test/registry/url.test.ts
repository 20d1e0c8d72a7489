import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { registryFromUrl } from "../../src/registry/url.js";
import { watchSchemes } from "../../src/watch/index.js";
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

  it("watch:// uses the factory the caller passes, and says what is missing without one", async () => {
    const kv = await registryFromUrl("watch://127.0.0.1:1", { schemes: watchSchemes });
    assert.equal(kv.kind, "watch");
    await kv.close();
    const err = await registryFromUrl("watch://127.0.0.1:1").then(
      () => assert.fail("resolved without a watch factory"),
      (e: unknown) => e,
    );
    assert.ok(GomsError.is(err) && err.code === Code.Unimplemented);
    assert.match(err.message, /watchSchemes/);
    assert.doesNotMatch(err.message, /\.ts\b|src\//, "user-facing errors name no source files");
  });

  it("any other scheme comes from the caller's factories", async () => {
    const inner = await registryFromUrl("embedded:");
    const seen: string[] = [];
    const kv = await registryFromUrl("mem://anything", { schemes: { mem: (u) => (seen.push(u), inner) } });
    assert.equal(kv, inner);
    assert.deepEqual(seen, ["mem://anything"]);
    await inner.close();
  });
});
