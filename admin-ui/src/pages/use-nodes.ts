import { useEffect, useState } from "preact/hooks";
import { get, type NodeSummary } from "../api.js";
import { useLive } from "../live.js";

/** The node list, kept live: stats events update numbers, stale/fresh flip badges, a slow poll picks up new nodes. */
export function useNodes(): { nodes: NodeSummary[]; error: string } {
  const [nodes, setNodes] = useState<NodeSummary[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    let alive = true;
    const load = () =>
      get<{ nodes: NodeSummary[] }>("/api/nodes")
        .then((r) => alive && (setNodes(r.nodes), setError("")))
        .catch((e: Error) => alive && setError(e.message));
    void load();
    const t = setInterval(load, 5000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, []);
  useLive({
    monitor(e) {
      setNodes((list) => {
        const i = list.findIndex((n) => n.name === e.node);
        if (i < 0) {
          void get<{ nodes: NodeSummary[] }>("/api/nodes").then((r) => setNodes(r.nodes));
          return list;
        }
        const n = { ...list[i]! };
        if (e.type === "stats") {
          n.latest = e.point;
          n.receivedAt = e.point.t;
          n.stale = false;
          n.monitored = true;
        } else n.stale = e.type === "stale";
        const next = [...list];
        next[i] = n;
        return next;
      });
    },
  });
  return { nodes, error };
}
