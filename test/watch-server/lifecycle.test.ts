import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { GomsError } from "../../src/errors/index.js";
import { createWatchClient, createWatchServer } from "../../src/watch/index.js";
import { dec, enc, Fixture } from "./helpers.js";

const fx = new Fixture();
afterEach(() => fx.close());

const badState = (e: unknown): boolean => GomsError.is(e) && e.reason === "GOMS_ERR_BAD_STATE";

describe("watch server and client lifecycle", () => {
  it("createWatchServer touches nothing until start(); start() twice is refused", async () => {
    const dir = join(fx.tempDir(), "data");
    const s = createWatchServer({ listen: { port: 0 }, dir });
    assert.equal(existsSync(dir), false, "no files before start()");
    assert.throws(() => s.store, badState);
    assert.equal(s.port, 0);
    assert.equal(await s.start(), s);
    assert.equal(existsSync(dir), true);
    assert.ok(s.port > 0);
    await assert.rejects(s.start(), badState);
    await s.close({ graceMs: 100 });
  });

  it("a client works with or without start(), and refuses to start once closed", async () => {
    const s = await fx.server();
    const explicit = createWatchClient({ url: s.url });
    assert.equal(await explicit.start(), explicit);
    await explicit.put("k", enc("v"));
    const lazy = fx.client(s.url);
    assert.equal(dec((await lazy.get("k"))?.value), "v");
    await explicit.close({ graceMs: 100 });
    await assert.rejects(explicit.start(), /closed/);
    await assert.rejects(explicit.get("k"), /closed/);
  });
});
