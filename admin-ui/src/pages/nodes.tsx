import { useEffect, useState } from "preact/hooks";
import { get, type NodeSummary, type SeriesPoint } from "../api.js";
import { Chart } from "../chart.js";
import { fmtBytes, fmtDuration, fmtNum } from "../format.js";
import { useLive } from "../live.js";
import { useNodes } from "./use-nodes.js";

export function StatusBadge({ n }: { n: NodeSummary }) {
  if (n.stale) return <span class="badge stale">stale</span>;
  if (n.monitored) return <span class="badge ok">live</span>;
  if (n.registered) return <span class="badge idle">registered</span>;
  return <span class="badge idle">unknown</span>;
}

/** How many nodes each program has: copies of one program (goms run --instances) are listed together. */
function programCounts(nodes: NodeSummary[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of nodes) m.set(n.program, (m.get(n.program) ?? 0) + 1);
  return m;
}

function ejectedTitle(n: NodeSummary): string {
  const o = n.outliers;
  if (o === undefined || o.ejected.length === 0) return "no peer ejected";
  return o.ejected.map((p) => `${p.node}: ${p.state}${p.reason ? ` (${p.reason})` : ""}`).join("\n");
}

function hedgesTitle(n: NodeSummary): string {
  const h = n.hedges;
  return h === undefined ? "" : `second copies sent per second by the calls this node makes; since start: ${h.sent} sent, ${h.won} won, ${h.refused} refused by the retry budget, ${h.rescued} rescued from a hung node`;
}

function refusedTitle(n: NodeSummary): string {
  const a = n.admission;
  return a === undefined ? "" : `since start: ${a.refusedLimit} over the limit, ${a.refusedDeadline} by deadline, of ${a.admitted + a.refusedLimit + a.refusedDeadline}`;
}

export function Nodes() {
  const { nodes: unsorted, error } = useNodes();
  const counts = programCounts(unsorted);
  const nodes = [...unsorted].sort((a, b) => a.program.localeCompare(b.program) || a.name.localeCompare(b.name));
  return (
    <section>
      <h2>Nodes</h2>
      {error && <div class="error">{error}</div>}
      <table class="grid" data-testid="nodes-table">
        <thead>
          <tr>
            <th>Node</th>
            <th>Program</th>
            <th>Status</th>
            <th>Address</th>
            <th>Region/set</th>
            <th class="num">Calls/s</th>
            <th class="num">p99 ms</th>
            <th class="num">Errors/s</th>
            <th class="num">CPU %</th>
            <th class="num">Memory</th>
            <th class="num" title="adaptive concurrency limit">Limit</th>
            <th class="num" title="calls refused before their handler ran, per second">Refused/s</th>
            <th class="num" title="peers this node ejected from its routing">Ejected</th>
            <th class="num" title="hedged requests (second copies) the calls this node makes sent, per second">Hedges/s</th>
            <th>Services</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.name} data-node={n.name} data-program={n.program} class={n.stale ? "is-stale" : ""}>
              <td>
                <a href={`#/nodes/${encodeURIComponent(n.name)}`}>{n.name}</a>
              </td>
              <td data-col="program">
                {n.program}
                {(counts.get(n.program) ?? 0) > 1 ? <span class="muted"> ×{counts.get(n.program)}</span> : null}
              </td>
              <td>
                <StatusBadge n={n} />
              </td>
              <td class="mono">{n.address || "–"}</td>
              <td>
                {n.region}
                {n.set ? ` / ${n.set}` : ""}
              </td>
              <td class="num" data-col="qps">
                {fmtNum(n.latest?.qps)}
              </td>
              <td class="num">{fmtNum(n.latest?.p99Ms, 2)}</td>
              <td class={`num ${(n.latest?.errorsPerSec ?? 0) > 0 ? "warn-text" : ""}`}>{fmtNum(n.latest?.errorsPerSec, 2)}</td>
              <td class="num">{fmtNum(n.latest?.cpuPercent)}</td>
              <td class="num">{fmtBytes(n.latest?.rssBytes)}</td>
              <td class="num" data-col="limit">
                {n.admission ? (n.admission.limit > 0 ? n.admission.limit : "off") : "–"}
              </td>
              <td class={`num ${(n.latest?.refusedPerSec ?? 0) > 0 ? "warn-text" : ""}`} data-col="refused" title={refusedTitle(n)}>
                {n.admission ? fmtNum(n.latest?.refusedPerSec, 2) : "–"}
              </td>
              <td class={`num ${(n.outliers?.ejectedNow ?? 0) > 0 ? "warn-text" : ""}`} data-col="ejected" title={ejectedTitle(n)}>
                {n.outliers ? n.outliers.ejectedNow : "–"}
              </td>
              <td class="num" data-col="hedges" title={hedgesTitle(n)}>
                {n.hedges ? fmtNum(n.latest?.hedgesPerSec, 2) : "–"}
              </td>
              <td class="small">{n.services.join(", ") || "–"}</td>
            </tr>
          ))}
          {nodes.length === 0 && (
            <tr>
              <td colSpan={15} class="muted">
                No nodes.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

const qps = (p: SeriesPoint) => p.qps;
const p99 = (p: SeriesPoint) => p.p99Ms;
const errs = (p: SeriesPoint) => p.errorsPerSec;
const cpu = (p: SeriesPoint) => p.cpuPercent;
const mem = (p: SeriesPoint) => p.rssBytes / 1048576;
const lag = (p: SeriesPoint) => p.eventLoopLagMs;
// Points from before an upgrade may lack the capacity fields.
const refused = (p: SeriesPoint) => p.refusedPerSec ?? 0;
const limit = (p: SeriesPoint) => p.admissionLimit ?? 0;
const hedges = (p: SeriesPoint) => p.hedgesPerSec ?? 0;

export function NodeDetail({ name }: { name: string }) {
  const { nodes } = useNodes();
  const n = nodes.find((x) => x.name === name);
  const [points, setPoints] = useState<SeriesPoint[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    get<{ points: SeriesPoint[] }>(`/api/nodes/${encodeURIComponent(name)}/series`)
      .then((r) => setPoints(r.points))
      .catch((e: Error) => setError(e.message));
  }, [name]);
  useLive(
    {
      monitor(e) {
        if (e.node === name && e.type === "stats") setPoints((ps) => [...ps.slice(-719), e.point]);
      },
    },
    [name],
  );
  return (
    <section>
      <h2>
        <a href="#/nodes">Nodes</a> / {name} {n && <StatusBadge n={n} />}
      </h2>
      {n && (
        <p class="muted">
          {n.address} · region {n.region}
          {n.set ? ` · set ${n.set}` : ""} · up {fmtDuration(n.uptimeMs / 1000)} · {n.callsInFlight} in flight · {n.services.join(", ") || "no services"}
        </p>
      )}
      {n?.admission && (
        <p class="muted" data-testid="node-capacity">
          admission limit {n.admission.limit > 0 ? n.admission.limit : "off"} · {n.admission.inflight} counted now · {n.admission.admitted} admitted · {n.admission.refusedLimit} refused over the limit ·{" "}
          {n.admission.refusedDeadline} refused by deadline · mean queue {fmtNum(n.admission.meanQueueMs, 2)} ms
          {n.outliers && ` · ${n.outliers.ejectedNow} peers ejected now (${n.outliers.ejections} ejections since start)`}
        </p>
      )}
      {n?.hedges && (
        <p class="muted" data-testid="node-hedges" title="hedged requests of the calls this node makes, since start">
          hedges {n.hedges.sent} sent · {n.hedges.won} won · {n.hedges.refused} refused by the retry budget · {n.hedges.rescued} rescued from a hung node
        </p>
      )}
      {n?.streams && n.streams.opened > 0 && (
        <p class="muted" data-testid="node-streams" title="streams this node served and made, since start; a send that waited was held back by a slower consumer (flow control)">
          streams {n.streams.opened} opened · {n.streams.sent} messages sent · {n.streams.received} received · {n.streams.windowWaits} sends waited for the receiver
        </p>
      )}
      {n?.outliers && n.outliers.ejected.length > 0 && (
        <ul class="small" data-testid="ejected-peers">
          {n.outliers.ejected.map((p) => (
            <li key={p.node}>
              {p.node}: {p.state}
              {p.reason ? ` (${p.reason})` : ""}
            </li>
          ))}
        </ul>
      )}
      {error && <div class="muted">{error}</div>}
      <div class="charts">
        <Chart title="Calls/s" points={points} value={qps} unit="" color="#2f6fde" />
        <Chart title="p99 latency" points={points} value={p99} unit="ms" color="#a04bd8" />
        <Chart title="Errors/s" points={points} value={errs} unit="" color="#d8463b" />
        <Chart title="CPU" points={points} value={cpu} unit="%" color="#1f9d6b" />
        <Chart title="Memory (RSS)" points={points} value={mem} unit="MiB" color="#c98a12" />
        <Chart title="Event-loop lag p99" points={points} value={lag} unit="ms" color="#667" />
        <Chart title="Refused/s" points={points} value={refused} unit="" color="#d8463b" />
        <Chart title="Concurrency limit" points={points} value={limit} unit="" color="#2f6fde" />
        <Chart title="Hedges/s" points={points} value={hedges} unit="" color="#c98a12" />
      </div>
    </section>
  );
}
