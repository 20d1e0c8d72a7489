/**
 * The registry survives an etcd restart: with the same data dir (leases and
 * keys persist, the keepalive just resumes) and with a wiped one (everything
 * lost: the registration must notice and write itself again).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, type GomsError } from "../../src/errors/index.js";
import { NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import { etcdKv } from "../../src/registry/etcd.js";
import type { KvBackend } from "../../src/kv/backend.js";
import { createRegistry, type Registry } from "../../src/registry/registry.js";
import { sleep, until } from "../helpers.js";
import { collect } from "./conformance.js";
import { startEtcd, type EtcdServer } from "./etcd-server.js";

const TTL = 2000;

describe("registry across etcd restarts", () => {
  let server: EtcdServer;
  let kv: KvBackend;
  let registry: Registry;
  before(async () => {
    server = await startEtcd();
    kv = etcdKv({ endpoints: [server.endpoint], callTimeoutMs: 1000 });
    registry = createRegistry({ kv, ttlMs: TTL });
  });
  after(async () => {
    await registry.close();
    await kv.close();
    await server.destroy();
  });

  for (const wipe of [false, true]) {
    it(`comes back by itself within 2 TTLs (${wipe ? "data dir wiped" : "same data dir"})`, async () => {
      const name = wipe ? "wiped" : "kept";
      const errors: GomsError[] = [];
      const states: string[] = [];
      const reg = await registry.register(create(NodeIdentitySchema, { name, set: "r" }), undefined, {
        onError: (e) => errors.push(e),
        onStateChange: (s) => states.push(s),
      });
      const watch = registry.watchNodes();
      const events = collect(watch);
      await until(() => events.items.some((e) => e.name === name && e.type === "up"), 5000, "up");

      await server.kill();
      await sleep(TTL + 500); // longer than the TTL: the lease would be gone by now
      await until(() => reg.state === "retrying", 3000, "retrying while etcd is down");
      assert.ok(errors.some((e) => e.code === Code.Unavailable), errors.map((e) => e.message).join("; "));

      await server.restart({ wipe });
      const t0 = Date.now();
      await until(() => reg.state === "registered", 2 * TTL, "registered again");
      const entry = await kv.get(reg.key);
      assert.ok(entry !== undefined, "key is back");
      assert.equal(entry.lease, reg.lease);
      const names = (await registry.list()).nodes.map((n) => n.node?.name);
      assert.ok(names.includes(name));
      assert.ok(Date.now() - t0 <= 2 * TTL);
      if (wipe) assert.ok(reg.writes >= 2, "rewritten after the wipe");
      // The watcher reconnects too and ends with the node up.
      await until(() => events.items.filter((e) => e.name === name).at(-1)?.type === "up", 2 * TTL, "watch shows it up");
      // ... and sees changes made after the restart.
      const other = await registry.register(create(NodeIdentitySchema, { name: `${name}-after`, set: "r" }));
      await until(() => events.items.some((e) => e.name === `${name}-after` && e.type === "up"), 5000, "up after restart");
      await other.close();
      watch.stop();
      await reg.close();
      assert.equal(await kv.get(reg.key), undefined);
    });
  }
});
