/**
 * `npm run bench -- registry`: time from a change (put) to a watcher seeing it,
 * p50 and p99, for the embedded store, the watch server (TCP, separate client
 * connections for writer and watcher) and a real etcd started for the run.
 *
 * The watch server is measured twice in the same run: watches as server
 * streams (WatchService.Watch, the default) and as long polls (Poll, what
 * clients used before streams). The two alternate in rounds, each on a fresh
 * server, so that load from other processes falls on both alike; the table
 * gives the stream/poll ratio. Two write patterns: one put at a time, and
 * bursts of 50 puts sent together (where a poll has to ask again between
 * batches and a stream does not).
 */
import { createHistogram, type RecordableHistogram } from "node:perf_hooks";
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
  pattern: Pattern;
  changes: number;
  seen: number;
  p50us: number;
  p99us: number;
  maxus: number;
}

type Pattern = "one at a time" | "bursts of 50";
const BURST = 50;

/** Latencies of `changes` puts by `writer` as `watcher` sees them, added to `h`; returns the changes seen. */
async function measure(writer: KvBackend, watcher: KvBackend, changes: number, pattern: Pattern, h: RecordableHistogram): Promise<number> {
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
  const put = (i: number): Promise<number> => {
    const key = `bench/k${i % 16}`;
    const value = String(i);
    sent.set(`${key}@${value}`, performance.now());
    return writer.put(key, new TextEncoder().encode(value));
  };
  if (pattern === "one at a time") {
    for (let i = 0; i < changes; i++) {
      await put(i);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));
    }
  } else {
    for (let i = 0; i < changes; i += BURST) {
      await Promise.all(Array.from({ length: Math.min(BURST, changes - i) }, (_, j) => put(i + j)));
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  w.stop();
  return seen;
}

function row(backend: string, pattern: Pattern, changes: number, seen: number, h: RecordableHistogram): Row {
  return { backend, pattern, changes, seen, p50us: h.percentile(50), p99us: h.percentile(99), maxus: h.max };
}

async function pair(make: () => Promise<{ writer: KvBackend; watcher: KvBackend; close(): Promise<void> }>, changes: number, pattern: Pattern, h: RecordableHistogram): Promise<number> {
  const p = await make();
  try {
    return await measure(p.writer, p.watcher, changes, pattern, h);
  } finally {
    await p.close();
  }
}

function watchServerPair(watchMode: "stream" | "poll") {
  return async () => {
    const server = await createWatchServer({ listen: { port: 0 } }).start();
    const url = `watch://127.0.0.1:${server.port}`;
    const writer = createWatchClient({ url, watchMode });
    const watcher = createWatchClient({ url, watchMode });
    return {
      writer,
      watcher,
      close: async () => {
        await writer.close();
        await watcher.close();
        await server.close();
      },
    };
  };
}

export async function runRegistrySuite(o: RegistrySuiteOptions): Promise<number> {
  const changes = o.quick ? 500 : 3000;
  const rounds = o.quick ? 2 : 4;
  const rows: Row[] = [];
  const patterns: Pattern[] = ["one at a time", "bursts of 50"];

  for (const pattern of patterns) {
    const h = createHistogram();
    const local = embeddedKv();
    const seen = await measure(local, local, changes, pattern, h);
    await local.close();
    rows.push(row("embedded (in-process)", pattern, changes, seen, h));
  }

  for (const pattern of patterns) {
    const hs = { stream: createHistogram(), poll: createHistogram() };
    const seen = { stream: 0, poll: 0 };
    const per = Math.ceil(changes / rounds);
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so neither always runs on a warmer process.
      const order = r % 2 === 0 ? (["stream", "poll"] as const) : (["poll", "stream"] as const);
      for (const mode of order) seen[mode] += await pair(watchServerPair(mode), per, pattern, hs[mode]);
    }
    rows.push(row("watch server, Watch stream (TCP)", pattern, per * rounds, seen.stream, hs.stream));
    rows.push(row("watch server, Poll (TCP)", pattern, per * rounds, seen.poll, hs.poll));
  }

  const etcd = await startEtcd();
  try {
    for (const pattern of patterns) {
      const h = createHistogram();
      const e1 = etcdKv({ endpoints: [etcd.endpoint] });
      const e2 = etcdKv({ endpoints: [etcd.endpoint] });
      const seen = await measure(e1, e2, changes, pattern, h);
      await e1.close();
      await e2.close();
      rows.push(row("etcd 3.4 (TCP)", pattern, changes, seen, h));
    }
  } finally {
    await etcd.destroy();
  }

  console.log(`\n## registry: change -> watcher latency (${changes} puts per row, one writer, one watcher)\n`);
  console.log("| backend | writes | changes seen | p50 µs | p99 µs | max µs |");
  console.log("|---|---|--:|--:|--:|--:|");
  for (const r of rows) console.log(`| ${r.backend} | ${r.pattern} | ${r.seen} | ${r.p50us} | ${r.p99us} | ${r.maxus} |`);
  console.log("\nWatch stream vs Poll, same run (below 1 = the stream is faster):\n");
  console.log("| writes | p50 stream/poll | p99 stream/poll |");
  console.log("|---|--:|--:|");
  for (const pattern of patterns) {
    const s = rows.find((r) => r.pattern === pattern && r.backend.includes("stream"))!;
    const p = rows.find((r) => r.pattern === pattern && r.backend.includes("Poll"))!;
    console.log(`| ${pattern} | ${(s.p50us / p.p50us).toFixed(2)} | ${(s.p99us / p.p99us).toFixed(2)} |`);
  }
  if (o.json) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(o.json, JSON.stringify({ suite: "registry", date: new Date().toISOString(), rows }, null, 2));
  }
  return rows.every((r) => r.seen === r.changes) ? 0 : 1;
}
