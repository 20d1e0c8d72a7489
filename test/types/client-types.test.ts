// Type tests: `npm test` typechecks this file; each @ts-expect-error must be an error.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { Client, ServiceImpl } from "../../src/rpc/index.js";
import { AddServer, type AddResponse } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

declare const add: Client<typeof AddServer>;

function typeChecks(): void {
  expectType<Equals<ReturnType<typeof add.add>, Promise<AddResponse>>>(true);
  void add.add({ a: 1, b: 2 }, { timeoutMs: 10, metadata: { k: "v" } });
  // @ts-expect-error wrong field type
  void add.add({ a: "1" });
  // @ts-expect-error unknown field
  void add.add({ c: 1 });
  // @ts-expect-error no such method
  void add.sub({});
  // @ts-expect-error unknown call option
  void add.add({}, { timeout: 5 });

  const impl: ServiceImpl<typeof DB> = {
    update: () => ({}),
    query: (req, ctx) => {
      ctx.ret = 1;
      const k: string = req.key;
      return { value: k };
    },
  };
  void impl;
  const bad: ServiceImpl<typeof DB> = {
    // @ts-expect-error wrong response field type
    query: () => ({ value: 1 }),
  };
  void bad;
}

it("types compile (checked by tsc in npm test)", () => {
  assert.equal(typeof typeChecks, "function");
});
