import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { Code, codeToString, GomsError, REASONS, gomsError, isReason, isCode, reasonStatus, type Reason } from "../../src/errors/index.js";

type ErrorsModule = typeof import("../../src/errors/goms-error.js");

/**
 * A second instance of goms-error.ts: the query string makes the loader treat it
 * as another module, exactly like a second installed copy of the package.
 */
async function secondCopy(): Promise<ErrorsModule> {
  const url = new URL("../../src/errors/goms-error.ts?copy=2", import.meta.url).href;
  const mod = (await import(url)) as ErrorsModule;
  assert.notEqual(mod.GomsError, GomsError, "the loader returned the same module instance");
  return mod;
}

describe("GomsError across two copies of goms", () => {
  it("is, instanceof and from agree on an error from the other copy", async () => {
    const { GomsError: Other } = await secondCopy();
    const cause = new Error("root");
    const foreign = new Other("no such key", Code.NotFound, {
      ret: 42,
      details: [{ type: "t", value: new Uint8Array([1, 2]) }],
      metadata: { k: "v" },
      cause,
      reason: "GOMS_ERR_UNKNOWN_SERVICE",
    });
    assert.equal(Object.getPrototypeOf(foreign) === GomsError.prototype, false);
    assert.equal(GomsError.is(foreign), true);
    assert.equal(foreign instanceof GomsError, true);

    const e = GomsError.from(foreign);
    assert.equal(Object.getPrototypeOf(e), GomsError.prototype, "from() returns this copy's class");
    assert.equal(e.code, Code.NotFound);
    assert.equal(e.rawMessage, "no such key");
    assert.equal(e.message, "[not_found] no such key");
    assert.equal(e.ret, 42);
    assert.deepEqual(e.details, [{ type: "t", value: new Uint8Array([1, 2]) }]);
    assert.deepEqual(e.metadata, { k: "v" });
    assert.equal(e.cause, cause);
    assert.equal(e.reason, "GOMS_ERR_UNKNOWN_SERVICE");
    assert.equal(e.stack, foreign.stack);
  });

  it("round-trips both ways", async () => {
    const { GomsError: Other } = await secondCopy();
    const local = gomsError("GOMS_ERR_BODY_TOO_LARGE", { limit: 10 }, { ret: 3 });
    assert.equal(Other.is(local), true);
    assert.equal(local instanceof Other, true);
    const there = Other.from(local);
    assert.equal(Object.getPrototypeOf(there), Other.prototype);
    const back = GomsError.from(there);
    assert.equal(Object.getPrototypeOf(back), GomsError.prototype);
    for (const k of ["code", "rawMessage", "message", "ret", "reason"] as const) assert.equal(back[k], local[k], k);
  });

  it("returns its own errors as they are, and keeps subclass instanceof exact", async () => {
    const { GomsError: Other } = await secondCopy();
    class Sub extends GomsError {}
    const own = new GomsError("x", Code.Internal);
    assert.equal(GomsError.from(own), own);
    const sub = new Sub("y", Code.Aborted);
    assert.equal(GomsError.from(sub), sub);
    assert.equal(sub instanceof Sub, true);
    assert.equal(sub instanceof GomsError, true);
    assert.equal(own instanceof Sub, false);
    assert.equal(new Other("z", Code.Internal) instanceof Sub, false);
  });

  it("rejects look-alikes without the brand", () => {
    const fake = Object.assign(new Error("[not_found] x"), { name: "GomsError", code: Code.NotFound, rawMessage: "x" });
    assert.equal(GomsError.is(fake), false);
    assert.equal(fake instanceof GomsError, false);
    const e = GomsError.from(fake);
    assert.equal(e.code, Code.Unknown);
    assert.equal(e.cause, fake);
    assert.equal(GomsError.is({ code: 5 }), false);
    assert.equal(GomsError.is(null), false);
  });

  it("maps abort and timeout reasons", () => {
    assert.equal(GomsError.from(AbortSignal.abort().reason).code, Code.Canceled);
    assert.equal(GomsError.from(new DOMException("t", "TimeoutError")).code, Code.DeadlineExceeded);
    assert.equal(GomsError.from("text", Code.Internal).code, Code.Internal);
  });
});

describe("reason catalog", () => {
  it("builds errors with the entry's code, message and reason", () => {
    const e = gomsError("GOMS_ERR_DEADLINE_EXCEEDED", { ms: 250 });
    assert.equal(e.code, Code.DeadlineExceeded);
    assert.equal(e.reason, "GOMS_ERR_DEADLINE_EXCEEDED");
    assert.equal(e.rawMessage, "deadline of 250ms exceeded");
    assert.equal(gomsError("GOMS_ERR_DEADLINE_EXCEEDED", {}).rawMessage, "deadline exceeded");
    const cause = new Error("c");
    const n = gomsError("GOMS_ERR_NOT_LOGGED_IN", undefined, { cause, ret: 1 });
    assert.equal(n.code, Code.Unauthenticated);
    assert.equal(n.cause, cause);
    assert.equal(n.ret, 1);
    assert.equal(reasonStatus("GOMS_ERR_BODY_TOO_LARGE"), 413);
    assert.equal(reasonStatus("GOMS_ERR_NO_ROUTE"), undefined);
    assert.equal(reasonStatus("MYAPP_ERR_X"), undefined);
    assert.equal(isReason("MYAPP_ERR_X"), false);
    assert.equal(isReason("toString"), false);
  });

  it("has well-formed entries", () => {
    for (const [id, entry] of Object.entries(REASONS)) {
      assert.match(id, /^GOMS_ERR_[A-Z_]+$/);
      assert.ok(isCode(entry.code), id);
      if ("status" in entry) assert.ok(entry.status >= 400 && entry.status <= 599, id);
    }
  });

  it("is documented reason by reason in docs/errors.md, with the same code", async () => {
    const doc = await readFile(new URL("../../docs/errors.md", import.meta.url), "utf8");
    const rows = new Map<string, string>();
    for (const m of doc.matchAll(/^\| `(GOMS_ERR_[A-Z_]+)` \| (\w+) \|/gm)) rows.set(m[1]!, m[2]!);
    const ids = Object.keys(REASONS) as Reason[];
    assert.deepEqual([...rows.keys()].sort(), [...ids].sort(), "docs/errors.md and src/errors/reasons.ts list different reasons");
    for (const id of ids) assert.equal(rows.get(id), codeToString(REASONS[id].code), id);
  });
});
