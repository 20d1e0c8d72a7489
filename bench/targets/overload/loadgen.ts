/**
 * The overload bench's load generator, a process of its own: an open loop.
 * Calls are sent at OVERLOAD_RATE per second whatever happens to earlier ones
 * (every millisecond tick sends what the schedule owes), each with a deadline
 * of OVERLOAD_DEADLINE_MS. RATE 0 runs a closed loop of 8 calls in flight
 * instead, to measure capacity. Reports what the measured window saw.
 */
import { AddServer } from "../../../examples/gen/goms/examples/v1/add_pb.js";
import { createNode } from "../../../dist/rpc/index.js";

const port = Number(process.env.OVERLOAD_PORT);
const rate = Number(process.env.OVERLOAD_RATE);
const warmupMs = Number(process.env.OVERLOAD_WARMUP_MS);
const durationMs = Number(process.env.OVERLOAD_DURATION_MS);
const deadlineMs = Number(process.env.OVERLOAD_DEADLINE_MS);

const node = createNode({ identity: { name: "overload-loadgen" }, peers: { addresses: [{ host: "127.0.0.1", port }] } });
await node.start();
await node.waitForPeer(5000);
const add = node.client(AddServer);

const lat: number[] = [];
let sent = 0;
let ok = 0;
let late = 0;
let refused = 0;
let timedOut = 0;
let other = 0;
let firstOther = "";
let measuring = false;

function one(): Promise<void> {
  const t0 = performance.now();
  const counted = measuring;
  if (counted) sent++;
  return add.add({ a: 1, b: 2 }, { timeoutMs: deadlineMs }).then(
    () => {
      const ms = performance.now() - t0;
      if (!counted) return;
      if (ms > deadlineMs) late++;
      else {
        ok++;
        lat.push(ms);
      }
    },
    (e: { code?: number; message?: string }) => {
      if (!counted) return;
      if (e.code === 8) refused++;
      else if (e.code === 4) timedOut++;
      else {
        other++;
        firstOther ||= String(e.message);
      }
    },
  );
}

const start = performance.now();
const measureFrom = start + warmupMs;
const end = measureFrom + durationMs;
if (rate > 0) {
  await new Promise<void>((resolve) => {
    let due = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      measuring = now >= measureFrom && now < end;
      if (now >= end) {
        clearInterval(timer);
        resolve();
        return;
      }
      const owed = Math.floor(((now - start) * rate) / 1000) - due;
      for (let i = 0; i < owed; i++) void one();
      due += owed;
    }, 1);
  });
} else {
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      measuring = performance.now() >= measureFrom;
      await one();
    }
  };
  await Promise.all(Array.from({ length: 8 }, loop));
}
measuring = false;
// Let the calls of the window settle (each ends by its deadline).
await new Promise((r) => setTimeout(r, deadlineMs + 200));
lat.sort((a, b) => a - b);
const p = (q: number): number => (lat.length === 0 ? Number.NaN : lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!);
process.send?.({ type: "result", sent, ok, late, refused, timedOut, other, firstOther, seconds: durationMs / 1000, p50: p(0.5), p99: p(0.99) });
await node.close({ graceMs: 0 });
process.exit(0);
