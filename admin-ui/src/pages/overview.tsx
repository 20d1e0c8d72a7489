import { useEffect, useState } from "preact/hooks";
import { get, type ProcessesView } from "../api.js";
import { fmtNum } from "../format.js";
import { useLive } from "../live.js";
import { useNodes } from "./use-nodes.js";

export function Overview() {
  const { nodes, error } = useNodes();
  const [procs, setProcs] = useState<ProcessesView | undefined>();
  useEffect(() => void get<ProcessesView>("/api/processes").then(setProcs).catch(() => undefined), []);
  useLive({ processes: setProcs });
  const live = nodes.filter((n) => n.monitored && !n.stale);
  const qps = live.reduce((s, n) => s + (n.latest?.qps ?? 0), 0);
  const errs = live.reduce((s, n) => s + (n.latest?.errorsPerSec ?? 0), 0);
  const p99 = Math.max(0, ...live.map((n) => n.latest?.p99Ms ?? 0));
  const services = new Set(nodes.flatMap((n) => n.services));
  const running = procs?.processes.filter((p) => p.state === "RUNNING").length ?? 0;
  return (
    <section>
      <h2>Cluster overview</h2>
      {error && <div class="error">{error}</div>}
      <div class="tiles">
        <Tile label="Nodes" value={String(nodes.length)} sub={`${nodes.filter((n) => n.stale).length} stale`} />
        <Tile label="Services" value={String(services.size)} />
        <Tile label="Calls/s" value={fmtNum(qps)} testid="total-qps" />
        <Tile label="Errors/s" value={fmtNum(errs, 2)} warn={errs > 0} />
        <Tile label="Worst p99" value={`${fmtNum(p99, 2)} ms`} />
        <Tile label="Processes" value={procs ? `${running}/${procs.processes.length}` : "–"} sub={procs ? `${procs.hosts.filter((h) => !h.ok).length} hosts down` : ""} />
      </div>
      <h3>Nodes</h3>
      <div class="chips">
        {nodes.map((n) => (
          <a class={`chip ${n.stale ? "stale" : n.monitored ? "ok" : "idle"}`} href={`#/nodes/${encodeURIComponent(n.name)}`} key={n.name}>
            {n.name}
            <span class="muted"> {n.stale ? "stale" : n.latest ? `${fmtNum(n.latest.qps)} qps` : n.registered ? "registered" : ""}</span>
          </a>
        ))}
        {nodes.length === 0 && <p class="muted">No nodes yet: nodes appear when they register or push stats.</p>}
      </div>
    </section>
  );
}

function Tile({ label, value, sub, warn, testid }: { label: string; value: string; sub?: string; warn?: boolean; testid?: string }) {
  return (
    <div class={`tile ${warn ? "warn" : ""}`}>
      <div class="muted">{label}</div>
      <div class="big" data-testid={testid}>
        {value}
      </div>
      {sub && <div class="muted small">{sub}</div>}
    </div>
  );
}
