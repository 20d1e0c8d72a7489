import { useEffect, useState } from "preact/hooks";
import type { AuditEntry, ProcessesView, SeriesPoint } from "./api.js";

export type MonitorEvent = { type: "stats"; node: string; point: SeriesPoint } | { type: "stale"; node: string } | { type: "fresh"; node: string };

type Listener = { monitor?: (e: MonitorEvent) => void; processes?: (v: ProcessesView) => void; audit?: (e: AuditEntry) => void };

const listeners = new Set<Listener>();
let source: EventSource | undefined;
let connected = false;
const statusFns = new Set<(c: boolean) => void>();
const endedFns = new Set<() => void>();

function ensure(): void {
  if (source) return;
  source = new EventSource("/api/events");
  source.onopen = () => setConnected(true);
  source.onerror = () => setConnected(false);
  source.addEventListener("monitor", (m) => {
    const e = JSON.parse((m as MessageEvent<string>).data) as MonitorEvent;
    for (const l of listeners) l.monitor?.(e);
  });
  source.addEventListener("processes", (m) => {
    const v = JSON.parse((m as MessageEvent<string>).data) as ProcessesView;
    for (const l of listeners) l.processes?.(v);
  });
  // The server ends the stream with `event: error` when the session is revoked (logout
  // elsewhere, password or role change, expiry): back to the login page.
  source.addEventListener("error", (m) => {
    if (!(m instanceof MessageEvent) || typeof m.data !== "string") return;
    if ((JSON.parse(m.data) as { reason?: string }).reason !== "GOMS_ERR_SESSION_ENDED") return;
    closeLive();
    for (const f of endedFns) f();
  });
  source.addEventListener("audit", (m) => {
    const e = JSON.parse((m as MessageEvent<string>).data) as AuditEntry;
    for (const l of listeners) l.audit?.(e);
  });
}

function setConnected(c: boolean): void {
  connected = c;
  for (const f of statusFns) f(c);
}

/** Closes the shared event stream (logout). */
export function closeLive(): void {
  source?.close();
  source = undefined;
  setConnected(false);
}

/** Calls `fn` when the server ends the session's stream because the session was revoked. */
export function onSessionEnded(fn: () => void): () => void {
  endedFns.add(fn);
  return () => void endedFns.delete(fn);
}

/** Subscribes to live events (one shared EventSource for the page). */
export function useLive(l: Listener, deps: unknown[] = []): void {
  useEffect(() => {
    ensure();
    listeners.add(l);
    return () => void listeners.delete(l);
  }, deps);
}

export function useLiveStatus(): boolean {
  const [c, setC] = useState(connected);
  useEffect(() => {
    ensure();
    statusFns.add(setC);
    return () => void statusFns.delete(setC);
  }, []);
  return c;
}
