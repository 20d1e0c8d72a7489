import { Code, GomsError, codeToString, gomsError } from "../errors/index.js";
import { errorBody, httpStatus, sendError, sendJson } from "../internal/http/json.js";
import { decodeSegment } from "../internal/http/url.js";
import type { ProcessesView } from "./api-types.js";
import { nodeSummaries } from "./cluster.js";
import type { AdminState, Req, Route } from "./context.js";
import { optStr, readJson, str } from "./request.js";
import { isProcessAction } from "./processes.js";
import { eventView, keyView, kvOf } from "./registry-view.js";

function processRows(s: AdminState): ProcessesView {
  const { processes, hosts } = s.processes.list();
  const nodes = new Map(nodeSummaries(s.opts.node, s.opts.store).map((n) => [n.name, n]));
  return { hosts, processes: processes.map((p) => ({ ...p, node: nodes.get(p.name) ?? null })) };
}

/** Read-only views: cluster, nodes, services, registry, audit, live events. */
export const readRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/nodes$/,
    access: "viewer",
    handle(r, s) {
      sendJson(r.res, 200, { nodes: nodeSummaries(s.opts.node, s.opts.store), now: Date.now() });
    },
  },
  {
    method: "GET",
    path: /^\/api\/nodes\/([^/]+)\/series$/,
    access: "viewer",
    handle(r, s) {
      const name = decodeSegment(r.params[0]!);
      if (!s.opts.store.node(name)) throw gomsError("GOMS_ERR_NO_MONITOR_DATA", { node: name });
      sendJson(r.res, 200, { node: name, points: s.opts.store.series(name) });
    },
  },
  {
    method: "GET",
    path: /^\/api\/services$/,
    access: "viewer",
    async handle(r, s) {
      sendJson(r.res, 200, { services: await s.methods.services() });
    },
  },
  {
    method: "GET",
    path: /^\/api\/registry$/,
    access: "viewer",
    async handle(r, s) {
      if (!s.opts.registry) throw gomsError("GOMS_ERR_NOT_CONFIGURED", { what: "the registry" });
      const prefix = r.query.get("prefix") ?? "";
      const { entries, revision } = await kvOf(s.opts.registry).range(prefix);
      const leases = [...new Set(entries.map((e) => e.lease).filter((l) => l !== ""))];
      sendJson(r.res, 200, { kind: kvOf(s.opts.registry).kind, prefix, revision, keys: entries.map(keyView), leases });
    },
  },
  {
    method: "GET",
    path: /^\/api\/registry\/watch$/,
    access: "viewer",
    handle(r, s) {
      if (!s.opts.registry) throw gomsError("GOMS_ERR_NOT_CONFIGURED", { what: "the registry" });
      const prefix = r.query.get("prefix") ?? "";
      const from = Number(r.query.get("from") ?? "");
      const kv = kvOf(s.opts.registry);
      const stream = s.streams.open(r.res, r.session!, false);
      const watch = Number.isInteger(from) && from > 0 ? kv.watch(prefix, from) : kv.watch(prefix);
      stream.onClose(() => watch.stop());
      void (async () => {
        try {
          // One event at a time: the watch stops polling while the client is behind.
          for await (const ev of watch) if (!stream.send("kv", eventView(ev)) || !(await stream.writable())) break;
          stream.end();
        } catch (e) {
          stream.end({ name: "error", data: errorBody(GomsError.from(e)) });
        }
      })();
    },
  },
  {
    method: "GET",
    path: /^\/api\/processes$/,
    access: "viewer",
    async handle(r, s) {
      await s.processes.poll();
      sendJson(r.res, 200, processRows(s));
    },
  },
  {
    method: "GET",
    path: /^\/api\/processes\/([^/]+)\/([^/]+)\/log$/,
    access: "viewer",
    async handle(r, s) {
      const host = decodeSegment(r.params[0]!);
      const name = decodeSegment(r.params[1]!);
      const c = s.processes.client(host);
      if (!c) throw gomsError("GOMS_ERR_UNKNOWN_SUPERVISOR", { host });
      await s.processes.poll();
      const row = s.processes.row(host, name);
      if (!row) throw gomsError("GOMS_ERR_UNKNOWN_PROCESS", { host, name });
      const bytes = Math.min(Math.max(Number(r.query.get("bytes") ?? 16384) || 16384, 256), 1 << 20);
      sendJson(r.res, 200, await c.tail(row.fullName, bytes));
    },
  },
  {
    method: "GET",
    path: /^\/api\/audit$/,
    access: "viewer",
    async handle(r, s) {
      const limit = Math.min(Math.max(Number(r.query.get("limit") ?? 200) || 200, 1), 5000);
      sendJson(r.res, 200, { entries: await s.audit.tail(limit) });
    },
  },
  {
    method: "GET",
    path: /^\/api\/events$/,
    access: "viewer",
    handle(r, s) {
      s.streams.open(r.res, r.session!, true).send("processes", processRows(s));
    },
  },
];

async function audited<T>(r: Req, s: AdminState, action: string, target: string, fn: () => Promise<T>): Promise<T> {
  try {
    const v = await fn();
    await s.audit.record({ user: r.user, ip: r.ip, action, target, outcome: "ok" });
    return v;
  } catch (e) {
    const msg = e instanceof GomsError ? `${codeToString(e.code)}: ${e.rawMessage}` : (e as Error).message;
    await s.audit.record({ user: r.user, ip: r.ip, action, target, outcome: "error", detail: msg });
    throw e;
  }
}

/** Waits (bounded) until the registry no longer lists `name`: the node has deregistered and is draining. */
async function waitDeregistered(s: AdminState, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (s.opts.node.discovered().has(name) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
}

/** Call failures that are the request's fault, answered with their usual status. */
const CALLER_MISTAKES = new Set<Code>([Code.InvalidArgument, Code.NotFound, Code.Unimplemented]);

/** Changes: process control and method calls (operator). */
export const operatorRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/api\/processes\/([^/]+)\/([^/]+)\/([a-z]+)$/,
    access: "operator",
    async handle(r, s) {
      const host = decodeSegment(r.params[0]!);
      const name = decodeSegment(r.params[1]!);
      const action = r.params[2]!;
      if (!isProcessAction(action)) throw gomsError("GOMS_ERR_UNKNOWN_ACTION", { action });
      if (!s.processes.client(host)) throw gomsError("GOMS_ERR_UNKNOWN_SUPERVISOR", { host });
      await audited(r, s, `process.${action}`, `${host}/${name}`, async () => {
        try {
          // drain: supervisord's stop signal makes the goms node deregister, then finish in-flight calls.
          await s.processes.act(host, name, action);
          if (action === "drain") await waitDeregistered(s, name, 5000);
        } catch (e) {
          throw gomsError("GOMS_ERR_SUPERVISOR_FAILED", { action, target: `${host}/${name}`, why: (e as Error).message }, { cause: e });
        }
      });
      await s.processes.poll();
      sendJson(r.res, 200, { ok: true, process: s.processes.row(host, name) ?? null });
    },
  },
  {
    method: "POST",
    path: /^\/api\/call$/,
    access: "operator",
    async handle(r, s) {
      const body = await readJson(r.req);
      const service = str(body, "service");
      const method = str(body, "method");
      const node = optStr(body, "node");
      const req = body["request"];
      const json = typeof req === "string" ? req : JSON.stringify(req ?? {});
      let out;
      try {
        out = await audited(r, s, "call", `${service}/${method}${node ? `@${node}` : ""}`, () =>
          s.methods.call(service, method, json, { timeoutMs: s.opts.callTimeoutMs ?? 10_000, ...(node ? { node } : {}) }),
        );
      } catch (e) {
        // The body keeps the call's own code and reason; the status says whether the
        // request was wrong (400/404) or the call failed further away (502).
        const err = GomsError.from(e);
        sendError(r.res, err, CALLER_MISTAKES.has(err.code) ? httpStatus(err.code, err.reason) : 502);
        return;
      }
      sendJson(r.res, 200, { response: out.json, ret: out.ret, node: out.node ?? null, ms: out.ms });
    },
  },
];

export { processRows };
