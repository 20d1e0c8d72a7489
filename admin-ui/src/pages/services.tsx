import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, canOperate, get, post, type FieldSchema, type MethodSchema, type Role, type ServiceSchema } from "../api.js";

export function Services() {
  const [services, setServices] = useState<ServiceSchema[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    get<{ services: ServiceSchema[] }>("/api/services")
      .then((r) => setServices(r.services))
      .catch((e: Error) => setError(e.message));
  }, []);
  return (
    <section>
      <h2>Services &amp; methods</h2>
      {error && <div class="error">{error}</div>}
      <table class="grid">
        <thead>
          <tr>
            <th>Service</th>
            <th>Methods</th>
            <th>Hosted by</th>
          </tr>
        </thead>
        <tbody>
          {services.map((s) => (
            <tr key={s.name}>
              <td class="mono">{s.name}</td>
              <td>
                {s.methods.map((m) => (
                  <a class="chip" key={m.name} href={`#/call?service=${encodeURIComponent(s.name)}&method=${encodeURIComponent(m.name)}`} title={`${m.input} → ${m.output}`}>
                    {m.name}
                  </a>
                ))}
              </td>
              <td>{s.nodes.join(", ") || <span class="muted">–</span>}</td>
            </tr>
          ))}
          {services.length === 0 && !error && (
            <tr>
              <td colSpan={3} class="muted">
                No services known yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

/** A text input's string -> the JSON value the field takes. */
function coerce(f: FieldSchema, raw: string): unknown {
  if (f.repeated || f.map || f.type === "message") return raw.trim() === "" ? undefined : (JSON.parse(raw) as unknown);
  if (f.type === "bool") return raw === "true";
  if (["int32", "uint32", "sint32", "fixed32", "sfixed32", "double", "float"].includes(f.type)) return raw === "" ? undefined : Number(raw);
  return raw === "" ? undefined : raw;
}

export function Call({ query, role }: { query: URLSearchParams; role: Role | undefined }) {
  const [services, setServices] = useState<ServiceSchema[]>([]);
  const [service, setService] = useState(query.get("service") ?? "");
  const [method, setMethod] = useState(query.get("method") ?? "");
  const [node, setNode] = useState("");
  const [mode, setMode] = useState<"form" | "json">("form");
  const [values, setValues] = useState<Record<string, string>>({});
  const [json, setJson] = useState("{}");
  const [result, setResult] = useState<{ text: string; meta: string; ok: boolean } | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void get<{ services: ServiceSchema[] }>("/api/services").then((r) => {
      setServices(r.services);
      if (!service && r.services[0]) setService(r.services[0].name);
    });
  }, []);
  const svc = services.find((s) => s.name === service);
  const m: MethodSchema | undefined = svc?.methods.find((x) => x.name === method) ?? svc?.methods[0];
  useEffect(() => {
    if (m) {
      setMethod(m.name);
      setValues({});
      setJson(JSON.stringify(m.template, null, 2));
    }
  }, [service, m?.name]);

  const request = useMemo(() => {
    if (mode === "json" || !m) return json;
    const out: Record<string, unknown> = {};
    for (const f of m.fields) {
      const raw = values[f.name];
      if (raw === undefined) continue;
      try {
        const v = coerce(f, raw);
        if (v !== undefined) out[f.name] = v;
      } catch {
        out[f.name] = raw;
      }
    }
    return JSON.stringify(out);
  }, [mode, m, values, json]);

  const call = async (e: Event) => {
    e.preventDefault();
    if (!m) return;
    setBusy(true);
    try {
      const r = await post<{ response: unknown; ret: number; node: string | null; ms: number }>("/api/call", { service, method: m.name, request, ...(node ? { node } : {}) });
      setResult({ ok: true, text: JSON.stringify(r.response, null, 2), meta: `ret ${r.ret}${r.node ? ` · served by ${r.node}` : ""} · ${r.ms.toFixed(1)} ms` });
    } catch (err) {
      setResult({ ok: false, text: err instanceof ApiError && err.code ? `${err.code}: ${err.message}` : (err as Error).message, meta: "failed" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h2>Call a method</h2>
      {!canOperate(role) && <p class="error">Your role ({role}) may not call methods; ask for the operator role.</p>}
      <form class="card call" onSubmit={call}>
        <div class="row">
          <label>
            Service
            <select name="service" value={service} onChange={(e) => setService(e.currentTarget.value)}>
              {services.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Method
            <select name="method" value={m?.name ?? ""} onChange={(e) => setMethod(e.currentTarget.value)}>
              {svc?.methods.map((x) => (
                <option key={x.name} value={x.name}>
                  {x.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Node
            <select name="node" value={node} onChange={(e) => setNode(e.currentTarget.value)}>
              <option value="">any (load-balanced)</option>
              {svc?.nodes.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <div class="tabs">
            <button type="button" class={mode === "form" ? "active" : ""} onClick={() => setMode("form")}>
              Form
            </button>
            <button type="button" class={mode === "json" ? "active" : ""} onClick={() => (setJson(request === "{}" ? JSON.stringify(m?.template ?? {}, null, 2) : request), setMode("json"))}>
              JSON
            </button>
          </div>
        </div>
        {m && <p class="muted mono small">{`${m.input} → ${m.output}`}</p>}
        {mode === "form" && m && (
          <div class="fields">
            {m.fields.map((f) => (
              <label key={f.name}>
                <span>
                  {f.name} <span class="muted small">{f.repeated ? `repeated ${f.type}` : f.map ? `map<…, ${f.type}>` : f.type === "message" ? f.message : f.type}</span>
                </span>
                {f.type === "bool" && !f.repeated ? (
                  <select name={f.name} value={values[f.name] ?? "false"} onChange={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}>
                    <option value="false">false</option>
                    <option value="true">true</option>
                  </select>
                ) : f.type === "enum" && !f.repeated && f.values ? (
                  <select name={f.name} value={values[f.name] ?? ""} onChange={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}>
                    <option value="">(default)</option>
                    {f.values.map((v) => (
                      <option key={v} value={v}>
                        {v}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input name={f.name} value={values[f.name] ?? ""} placeholder={f.repeated || f.map || f.type === "message" ? "JSON" : ""} onInput={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })} />
                )}
              </label>
            ))}
            {m.fields.length === 0 && <p class="muted">No fields: the request is empty.</p>}
          </div>
        )}
        {mode === "json" && <textarea name="json" class="mono" rows={10} value={json} onInput={(e) => setJson(e.currentTarget.value)} spellcheck={false} />}
        <div class="row">
          <button class="primary" type="submit" disabled={busy || !m || !canOperate(role)}>
            Call
          </button>
          <span class="muted small mono">{request}</span>
        </div>
      </form>
      {result && (
        <div class={`card result ${result.ok ? "" : "error"}`} data-testid="call-result">
          <div class="muted small">{result.meta}</div>
          <pre>{result.text}</pre>
        </div>
      )}
    </section>
  );
}
