// The console's Program column: copies of one program (goms run --instances,
// gateway workers, numbered supervisord programs) share it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { programOf } from "../../src/admin/cluster.js";

describe("programOf", () => {
  it("drops the instance number, keeps a name without one, and prefers the identity's type", () => {
    assert.equal(programOf("db0", ""), "db");
    assert.equal(programOf("db12", ""), "db");
    assert.equal(programOf("gate0-1", ""), "gate0");
    assert.equal(programOf("query", ""), "query");
    assert.equal(programOf("42", ""), "42");
    assert.equal(programOf("node-a", ""), "node-a");
    assert.equal(programOf("db0", "storage"), "storage");
  });
});
