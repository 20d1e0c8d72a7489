import { useEffect, useState } from "preact/hooks";
import { get, type KeyView } from "../api.js";

interface KvEvent {
  type: string;
  key: string;
  revision: number;
  value?: Pick<KeyView, "kind" | "value">;
}

export function RegistryBrowser() {
  const [prefix, setPrefix] = useState("goms/");
  const [applied, setApplied] = useState("goms/");
  const [keys, setKeys] = useState<KeyView[]>([]);
  const [info, setInfo] = useState("");
  const [events, setEvents] = useState<(KvEvent & { at: number })[]>([]);
  const [open, setOpen] = useState<string | undefined>();
  const [error, setError] = useState("");

  useEffect(() => {
    let es: EventSource | undefined;
    let stopped = false;
    const load = async () => {
      try {
        const r = await get<{ kind: string; revision: number; keys: KeyView[]; leases: string[] }>(`/api/registry?prefix=${encodeURIComponent(applied)}`);
        if (stopped) return;
        setKeys(r.keys);
        setInfo(`${r.kind} · revision ${r.revision} · ${r.keys.length} keys · ${r.leases.length} leases`);
        setError("");
        es = new EventSource(`/api/registry/watch?prefix=${encodeURIComponent(applied)}&from=${r.revision}`);
        es.addEventListener("kv", (m) => {
          const ev = JSON.parse((m as MessageEvent<string>).data) as KvEvent;
          setEvents((list) => [{ ...ev, at: Date.now() }, ...list].slice(0, 50));
          void get<{ keys: KeyView[] }>(`/api/registry?prefix=${encodeURIComponent(applied)}`).then((x) => setKeys(x.keys));
        });
      } catch (e) {
        setError((e as Error).message);
      }
    };
    void load();
    return () => {
      stopped = true;
      es?.close();
    };
  }, [applied]);

  return (
    <section>
      <h2>Registry</h2>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setEvents([]);
          setApplied(prefix);
        }}
      >
        <input class="mono grow" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} placeholder="key prefix" />
        <button type="submit">Browse</button>
      </form>
      {error ? <div class="error">{error}</div> : <p class="muted small">{info} · watching live</p>}
      <div class="split">
        <table class="grid">
          <thead>
            <tr>
              <th>Key</th>
              <th>Lease</th>
              <th class="num">Rev</th>
              <th class="num">Bytes</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <>
                <tr key={k.key} class="clickable" onClick={() => setOpen(open === k.key ? undefined : k.key)}>
                  <td class="mono">{k.key}</td>
                  <td class="mono small">{k.lease || "–"}</td>
                  <td class="num">{k.modRevision}</td>
                  <td class="num">{k.size}</td>
                </tr>
                {open === k.key && (
                  <tr>
                    <td colSpan={4}>
                      <pre class="small">{typeof k.value === "string" ? k.value : JSON.stringify(k.value, null, 2)}</pre>
                    </td>
                  </tr>
                )}
              </>
            ))}
          </tbody>
        </table>
        <div class="card events">
          <h3>Live changes</h3>
          {events.length === 0 && <p class="muted small">No changes since opened.</p>}
          {events.map((e) => (
            <div key={`${e.revision}-${e.key}`} class="small mono">
              <span class={`badge ${e.type === "put" ? "ok" : "stale"}`}>{e.type}</span> {e.key} <span class="muted">@{e.revision}</span>
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
