import { useEffect, useState } from "preact/hooks";
import { get, type AuditEntry } from "../api.js";
import { fmtTime } from "../format.js";
import { useLive } from "../live.js";

export function Audit() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [filter, setFilter] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    get<{ entries: AuditEntry[] }>("/api/audit?limit=500")
      .then((r) => setEntries(r.entries))
      .catch((e: Error) => setError(e.message));
  }, []);
  useLive({ audit: (e) => setEntries((list) => [e, ...list].slice(0, 500)) });
  const f = filter.toLowerCase();
  const shown = f ? entries.filter((e) => `${e.user} ${e.action} ${e.target} ${e.outcome} ${e.detail ?? ""}`.toLowerCase().includes(f)) : entries;
  return (
    <section>
      <h2>Audit log</h2>
      <div class="row">
        <input class="grow" placeholder="filter (user, action, target…)" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </div>
      {error && <div class="error">{error}</div>}
      <table class="grid" data-testid="audit-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>User</th>
            <th>IP</th>
            <th>Action</th>
            <th>Target</th>
            <th>Outcome</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e, i) => (
            <tr key={`${e.time}-${i}`}>
              <td class="small">{fmtTime(e.time)}</td>
              <td>{e.user}</td>
              <td class="mono small">{e.ip}</td>
              <td class="mono">{e.action}</td>
              <td class="mono">{e.target}</td>
              <td>
                <span class={`badge ${e.outcome === "ok" ? "ok" : "stale"}`}>{e.outcome}</span>
              </td>
              <td class="small">{e.detail ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
