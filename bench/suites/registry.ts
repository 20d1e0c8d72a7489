/**
 * `npm run bench -- registry`: time from a change (put) to a watcher seeing it,
 * p50 and p99, for the embedded store, the watch server (TCP, separate client
 * connections for writer and watcher) and a real etcd started for the run.
 */
import { createHistogram } from "node:perf_hooks";
import type { KvBackend } from "../../src/registry/index.js";
import { embeddedKv, etcdKv } from "../../src/registry/index.js";
import { createWatchClient, createWatchServer } from "../../src/watch/index.js";
import { startEtcd } from "../../test/registry/etcd-server.js";

export interface RegistrySuiteOptions {
  quick: boolean;
  json: string | undefined;
}

interface Row {
  backend: string;
  changes: number;
  p50us: number;
  p99us: number;
  maxus: number;
}

async function measure(backend: string, writer: KvBackend, watcher: KvBackend, changes: number): Promise<Row> {
  const h = createHistogram();
  const sent = new Map<string, number>();
  const w = watcher.watch("bench/", (await watcher.range("bench/")).revision);
  let seen = 0;
  const done = (async () => {
    for await (const ev of w) {
      const t = sent.get(ev.key + "@" + new TextDecoder().decode(ev.value));
      if (t !== undefined) h.record(Math.max(1, Math.round((performance.now() - t) * 1000)));
      if (++seen >= changes) break;
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < changes; i++) {
    const key = `bench/k${i % 16}`;
    const value = String(i);
    sent.set(`${key}@${value}`, performance.now());
    await writer.put(key, new TextEncoder().encode(value));
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  w.stop();
  return { backend, changes: seen, p50us: h.percentile(50), p99us: h.percentile(99), maxus: h.max };
}

export async function runRegistrySuite(o: RegistrySuiteOptions): Promise<number> {
  const changes = o.quick ? 500 : 3000;
  const rows: Row[] = [];

  const local = embeddedKv();
  rows.push(await measure("embedded (in-process)", local, local, changes));
  await local.close();

  const server = await createWatchServer({ listen: { port: 0 } }).start();
  const url = `watch://127.0.0.1:${server.port}`;
  const wc1 = createWatchClient({ url });
  const wc2 = createWatchClient({ url });
  rows.push(await measure("watch server (TCP)", wc1, wc2, changes));
  await wc1.close();
  await wc2.close();
  await server.close();

  const etcd = await startEtcd();
  try {
    const e1 = etcdKv({ endpoints: [etcd.endpoint] });
    const e2 = etcdKv({ endpoints: [etcd.endpoint] });
    rows.push(await measure("etcd 3.4 (TCP)", e1, e2, changes));
    await e1.close();
    await e2.close();
  } finally {
    await etcd.destroy();
  }

  console.log(`\n## registry: change -> watcher latency (${changes} puts, one writer, one watcher)\n`);
  console.log("| backend | changes seen | p50 µs | p99 µs | max µs |");
  console.log("|---|--:|--:|--:|--:|");
  for (const r of rows) console.log(`| ${r.backend} | ${r.changes} | ${r.p50us} | ${r.p99us} | ${r.maxus} |`);
  if (o.json) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(o.json, JSON.stringify({ suite: "registry", date: new Date().toISOString(), rows }, null, 2));
  }
  return rows.every((r) => r.changes === changes) ? 0 : 1;
}
