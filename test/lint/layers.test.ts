// The layer rule bites: a deliberately bad import in each forbidden direction
// is reported, and a good one is not.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { ESLint } from "eslint";

const root = path.resolve(import.meta.dirname, "../..");
const eslint = new ESLint({ cwd: root });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (r?.messages ?? []).filter((m) => m.ruleId === "goms/layers").map((m) => m.message);
}

describe("eslint goms/layers", () => {
  it("internal code never imports rpc (upward)", async () => {
    const errs = await layerErrors("src/internal/conn/bad.ts", 'import { GomsNode } from "../../rpc/node.js";\nexport const x = GomsNode;\n');
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /src\/internal\/conn \(layer 3\) must not import src\/rpc \(layer 4\)/);
  });

  it("watch and registry do not import each other (sideways)", async () => {
    const errs = await layerErrors("src/watch/bad.ts", 'export { createRegistry } from "../registry/index.js";\n');
    assert.match(errs[0] ?? "", /both layer 5/);
  });

  it("admin uses the gateway only through its index", async () => {
    assert.equal((await layerErrors("src/admin/bad.ts", 'export * from "../gateway/openapi.js";\n')).length, 1);
    assert.deepEqual(await layerErrors("src/admin/ok.ts", 'export * from "../gateway/index.js";\n'), []);
  });

  it("a computed import() is reported; a downward import is fine", async () => {
    assert.equal((await layerErrors("src/registry/bad.ts", "const m = './x.js';\nexport const p = import(m);\n")).length, 1);
    assert.deepEqual(await layerErrors("src/gateway/ok.ts", 'export { Code } from "../errors/index.js";\n'), []);
  });
});
