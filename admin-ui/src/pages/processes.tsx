import { useEffect, useState } from "preact/hooks";
import { canOperate, get, post, type ProcessRow, type ProcessesView, type Role } from "../api.js";
import { Confirm } from "../confirm.js";
import { fmtDuration } from "../format.js";
import { useLive } from "../live.js";
import { StatusBadge } from "./nodes.js";

type Action = "start" | "stop" | "restart" | "drain";

const EXPLAIN: Record<Action, string> = {
  start: "supervisord starts the program.",
  stop: "supervisord sends SIGTERM; the program is killed after stopwaitsecs if it has not exited.",
  restart: "Stop, then start (supervisord has no restart call). In-flight calls on this node are drained first.",
  drain: "The node leaves the registry, finishes in-flight calls and exits (SIGTERM through supervisord, then STOPPED). Other nodes take its traffic.",
};

function stateClass(s: string): string {
  if (s === "RUNNING") return "ok";
  if (s === "STOPPED" || s === "EXITED") return "idle";
  if (s === "STARTING" || s === "STOPPING" || s === "DRAINING" || s === "RESTARTING") return "busy";
  return "stale";
}

export function Processes({ role }: { role: Role | undefined }) {
  const [view, setView] = useState<ProcessesView | undefined>();
  const [error, setError] = useState("");
  const [ask, setAsk] = useState<{ row: ProcessRow; action: Action } | undefined>();
  const [log, setLog] = useState<{ row: ProcessRow; text: string } | undefined>();
  const [, tick] = useState(0);

  useEffect(() => {
    get<ProcessesView>("/api/processes")
      .then(setView)
      .catch((e: Error) => setError(e.message));
    const t = setInterval(() => tick((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, []);
  useLive({ processes: setView });

  const run = async (row: ProcessRow, action: Action) => {
    setAsk(undefined);
    setError("");
    try {
      await post(`/api/processes/${encodeURIComponent(row.host)}/${encodeURIComponent(row.name)}/${action}`);
      setView(await get<ProcessesView>("/api/processes"));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const showLog = async (row: ProcessRow) => {
    try {
      const r = await get<{ text: string }>(`/api/processes/${encodeURIComponent(row.host)}/${encodeURIComponent(row.name)}/log?bytes=16384`);
      setLog({ row, text: r.text });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const op = canOperate(role);

  return (
    <section>
      <h2>Processes</h2>
      <p class="muted small">
        {view?.hosts.map((h) => (
          <span key={h.host} class={`badge ${h.ok ? "ok" : "stale"}`} title={h.error ?? h.url}>
            {h.host} {h.ok ? "" : "unreachable"}
          </span>
        ))}
        {view && view.hosts.length === 0 && "No supervisord configured: start goms admin with --supervisor http://user:pass@host:9001."}
      </p>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <table class="grid" data-testid="processes-table">
        <thead>
          <tr>
            <th>Host</th>
            <th>Program</th>
            <th>State</th>
            <th class="num">PID</th>
            <th>Uptime</th>
            <th>goms node</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {view?.processes.map((p) => {
            const state = p.pending ?? p.state;
            const up = p.startedAtMs > 0 ? (Date.now() - p.startedAtMs) / 1000 : 0;
            return (
              <tr key={`${p.host}/${p.name}`} data-process={p.name}>
                <td>{p.host}</td>
                <td class="mono">{p.name}</td>
                <td>
                  <span class={`badge ${stateClass(state)}`} data-col="state">
                    {state}
                  </span>
                </td>
                <td class="num">{p.pid || "–"}</td>
                <td>{fmtDuration(up)}</td>
                <td>{p.node ? <>{p.node.name} <StatusBadge n={p.node} /></> : <span class="muted">–</span>}</td>
                <td class="actions">
                  {(["start", "stop", "restart", "drain"] as const).map((a) => (
                    <button key={a} type="button" disabled={!op || p.pending !== undefined || (a === "start" ? p.state === "RUNNING" : p.state !== "RUNNING")} onClick={() => setAsk({ row: p, action: a })} class={a === "stop" || a === "drain" ? "danger-outline" : ""}>
                      {a}
                    </button>
                  ))}
                  <button type="button" onClick={() => void showLog(p)}>
                    log
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {ask && (
        <Confirm title={`${ask.action} ${ask.row.name} on ${ask.row.host}?`} confirmLabel={ask.action} danger={ask.action !== "start"} onCancel={() => setAsk(undefined)} onConfirm={() => void run(ask.row, ask.action)}>
          <p>{EXPLAIN[ask.action]}</p>
          <p class="muted small">This action is recorded in the audit log under your name.</p>
        </Confirm>
      )}
      {log && (
        <div class="card">
          <div class="row">
            <h3 class="grow">
              {log.row.host}/{log.row.name} stdout (tail)
            </h3>
            <button type="button" onClick={() => void showLog(log.row)}>
              refresh
            </button>
            <button type="button" onClick={() => setLog(undefined)}>
              close
            </button>
          </div>
          <pre class="log">{log.text || "(empty)"}</pre>
        </div>
      )}
    </section>
  );
}
