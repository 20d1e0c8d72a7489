// HTTP helpers for the admin tests: JSON requests, login, raw requests, an
// event-stream reader and the RSS of an admin process.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import type { Procs } from "../procs.js";

export interface Res {
  status: number;
  body: Record<string, unknown>;
  /** "goms_admin=..." from set-cookie. */
  cookie: string | undefined;
  /** The whole set-cookie header. */
  setCookie: string | undefined;
  headers: Headers;
}

export interface ReqOpts {
  body?: unknown;
  cookie?: string;
  csrf?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export async function http(base: string, method: string, path: string, opts: ReqOpts = {}): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] = opts.contentType ?? "application/json";
  if (opts.cookie) headers["cookie"] = opts.cookie;
  if (opts.csrf) headers["x-csrf-token"] = opts.csrf;
  const r = await fetch(base + path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await r.text();
  const setCookie = r.headers.get("set-cookie") ?? undefined;
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, cookie: setCookie?.split(";")[0], setCookie, headers: r.headers };
}

/** The status and reason id of an error answer ({code, message, reason}). */
export function failure(r: Res): [number, unknown] {
  return [r.status, r.body["reason"]];
}

export async function login(base: string, user: string, password: string, headers?: Record<string, string>): Promise<{ cookie: string; csrf: string }> {
  const r = await http(base, "POST", "/api/login", { body: { user, password }, ...(headers ? { headers } : {}) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { cookie: r.cookie!, csrf: r.body["csrf"] as string };
}

/** A GET with the path sent byte for byte (fetch would normalize it): status, content type and body text. */
export function rawGet(base: string, path: string, cookie?: string): Promise<{ status: number; type: string | undefined; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    request({ host: u.hostname, port: u.port, path, agent: false, headers: cookie ? { cookie } : {} }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], text }));
    })
      .on("error", reject)
      .end();
  });
}

/** An open event stream: the events seen so far and a promise of its end. */
export interface EventStream {
  status: number;
  events: { event: string; data: string }[];
  ended: Promise<void>;
  close(): void;
}

/** Opens an SSE stream with fetch and collects its events until it ends. */
export async function openStream(base: string, path: string, cookie: string): Promise<EventStream> {
  const ac = new AbortController();
  const r = await fetch(base + path, { headers: { cookie }, signal: ac.signal });
  const events: { event: string; data: string }[] = [];
  const reader = r.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev !== undefined) events.push({ event: ev, data: data ?? "" });
        }
      }
    } catch {
      // Aborted by close(), or cut by the server: either way the stream has ended.
    }
  })();
  return { status: r.status, events, ended, close: () => ac.abort() };
}

/** Resolves true if `p` settles within `ms`, false otherwise (a bound, not a speed check). */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  const done = p.then(
    () => true,
    () => true,
  );
  const ok = await Promise.race([done, timeout]);
  clearTimeout(timer);
  return ok;
}

/** Resident memory of a process, bytes (Linux /proc). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  assert.ok(kb !== undefined, "VmRSS in /proc/<pid>/status");
  return Number(kb) * 1024;
}

/** An admin console in its own process (fixtures/admin-server.ts). */
export interface AdminProc {
  url: string;
  pid: number;
  dataDir: string;
}

/** Starts fixtures/admin-server.ts with `options` (JSON-able AdminOptions) and the bootstrap user root. */
export async function startAdminProc(procs: Procs, dataDir: string, options: Record<string, unknown> = {}, registry?: string, env: Record<string, string> = {}): Promise<AdminProc> {
  const cfg = JSON.stringify({ dataDir, options, ...(registry ? { registry } : {}) });
  const { out } = await procs.start([fileURLToPath(new URL("fixtures/admin-server.ts", import.meta.url)), cfg], /admin ready \S+ pid \d+/, env);
  const m = /admin ready (\S+) pid (\d+)/.exec(out())!;
  return { url: m[1]!, pid: Number(m[2]), dataDir };
}
