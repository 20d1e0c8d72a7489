/** WatchService handlers: each store command, one to one. Store errors pass through unchanged. */
import { WatchService } from "../gen/goms/v1/watch_pb.js";
import type { ServiceImpl } from "../rpc/index.js";
import type { Poller } from "./poll.js";
import type { WatchStore } from "../kv/store.js";
import type { DeleteResult } from "../kv/types.js";
import { parseLease, requireLease } from "../kv/lease.js";
import { kvToWire, toSafe } from "./wire.js";

function deleted(r: DeleteResult): { deleted: number; revision: bigint } {
  return { deleted: r.deleted, revision: BigInt(r.revision) };
}

function optRevision(v: bigint | undefined): number | undefined {
  return v === undefined ? undefined : toSafe("prev_revision", v);
}

export function watchServiceImpl(store: WatchStore, poller: Poller): ServiceImpl<typeof WatchService> {
  return {
    put(req) {
      const lease = parseLease(req.lease);
      const prevRevision = optRevision(req.prevRevision);
      const revision = store.put(req.key, req.value, {
        ...(lease === undefined ? {} : { lease }),
        ...(prevRevision === undefined ? {} : { prevRevision }),
      });
      return { revision: BigInt(revision) };
    },
    get(req) {
      const kv = store.get(req.key);
      return { ...(kv === undefined ? {} : { kv: kvToWire(kv) }), revision: BigInt(store.revision) };
    },
    range(req) {
      const r = store.range(req.prefix);
      return { kvs: r.kvs.map(kvToWire), revision: BigInt(r.revision) };
    },
    delete(req) {
      const prevRevision = optRevision(req.prevRevision);
      return deleted(store.delete(req.key, prevRevision === undefined ? {} : { prevRevision }));
    },
    deletePrefix(req) {
      return deleted(store.deletePrefix(req.prefix));
    },
    hSet(req) {
      const lease = parseLease(req.lease);
      return { revision: BigInt(store.hset(req.key, req.field, req.value, lease === undefined ? {} : { lease })) };
    },
    hGet(req) {
      const value = store.hget(req.key, req.field);
      return value === undefined ? {} : { value };
    },
    hGetAll(req) {
      // fromEntries makes a plain object with own properties (even a field named "__proto__").
      return { fields: Object.fromEntries(Object.entries(store.hgetall(req.key))) };
    },
    hDel(req) {
      return deleted(store.hdel(req.key, req.field));
    },
    del(req) {
      return deleted(store.del(req.key));
    },
    hIncrBy(req) {
      const n = Number(req.n);
      return { value: BigInt(store.hincrby(req.key, req.field, Number.isSafeInteger(n) ? n : Number.NaN)) };
    },
    keyPrefix(req) {
      return { keys: store.keyPrefix(req.prefix) };
    },
    grant(req, ctx) {
      const ttlMs = toSafe("ttl_ms", req.ttlMs, 1);
      // A lease counts against its connection's cap (maxLeasesPerClient); in-process callers only against the global one.
      const owner = ctx.peer.local ? undefined : ctx.peer.address;
      return { lease: store.grant(ttlMs, owner === undefined ? {} : { owner }), ttlMs: BigInt(ttlMs) };
    },
    keepAlive(req) {
      return { ttlMs: BigInt(store.keepAlive(requireLease(req.lease))) };
    },
    timeToLive(req) {
      return { ttlMs: BigInt(store.timeToLive(requireLease(req.lease))) };
    },
    revoke(req) {
      return deleted(store.revoke(requireLease(req.lease)));
    },
    poll(req, ctx) {
      return poller.poll(req, ctx);
    },
    watch(req, ctx) {
      return poller.stream(req, ctx);
    },
  };
}
