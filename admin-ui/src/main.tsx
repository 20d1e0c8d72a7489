import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post, setCsrf, type Me } from "./api.js";
import { closeLive, onSessionEnded, useLiveStatus } from "./live.js";
import { Audit } from "./pages/audit.js";
import { Login } from "./pages/login.js";
import { NodeDetail, Nodes } from "./pages/nodes.js";
import { Overview } from "./pages/overview.js";
import { Processes } from "./pages/processes.js";
import { RegistryBrowser } from "./pages/registry.js";
import { Call, Services } from "./pages/services.js";
import "./style.css";

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const f = () => setHash(location.hash);
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return hash;
}

const NAV: [string, string][] = [
  ["#/", "Overview"],
  ["#/nodes", "Nodes"],
  ["#/services", "Services"],
  ["#/call", "Call"],
  ["#/registry", "Registry"],
  ["#/processes", "Processes"],
  ["#/audit", "Audit"],
];

function Page({ hash, me }: { hash: string; me: Me }) {
  const [path, qs] = (hash.replace(/^#/, "") || "/").split("?") as [string, string | undefined];
  const query = new URLSearchParams(qs ?? "");
  const node = /^\/nodes\/(.+)$/.exec(path);
  if (node) return <NodeDetail name={decodeURIComponent(node[1]!)} />;
  switch (path) {
    case "/nodes":
      return <Nodes />;
    case "/services":
      return <Services />;
    case "/call":
      return <Call query={query} role={me.role} />;
    case "/registry":
      return <RegistryBrowser />;
    case "/processes":
      return <Processes role={me.role} />;
    case "/audit":
      return <Audit />;
    default:
      return <Overview />;
  }
}

function Shell({ me, onLogout }: { me: Me; onLogout(): void }) {
  const hash = useHash();
  const live = useLiveStatus();
  const current = "#/" + ((hash.replace(/^#\//, "").split(/[/?]/)[0] ?? "") || "");
  return (
    <div class="shell">
      <header>
        <span class="brand">goms admin</span>
        <nav>
          {NAV.map(([href, label]) => (
            <a key={href} href={href} class={current === href || (href !== "#/" && current.startsWith(href)) ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`live ${live ? "on" : ""}`} title={live ? "live updates connected" : "reconnecting…"}>
          ● {live ? "live" : "offline"}
        </span>
        <span class="who">
          {me.user} <span class="muted">({me.role})</span>
        </span>
        <button type="button" onClick={onLogout}>
          Sign out
        </button>
      </header>
      <main>
        <Page hash={hash} me={me} />
      </main>
    </div>
  );
}

function App() {
  const [me, setMe] = useState<Me | undefined>();
  const [state, setState] = useState<"loading" | "login" | "setup" | "in">("loading");
  useEffect(() => {
    get<Me>("/api/session")
      .then((m) => (setCsrf(m.csrf), setMe(m), setState("in")))
      .catch(async (e: unknown) => {
        if (!(e instanceof ApiError) || e.status !== 401) throw e;
        const s = await get<{ needed: boolean }>("/api/setup");
        setState(s.needed ? "setup" : "login");
      });
    return onSessionEnded(() => {
      setMe(undefined);
      setState("login");
    });
  }, []);
  if (state === "loading") return <div class="muted pad">Loading…</div>;
  if (state !== "in" || !me)
    return (
      <Login
        setup={state === "setup"}
        onLogin={(m) => {
          setCsrf(m.csrf);
          setMe(m);
          setState("in");
        }}
      />
    );
  return (
    <Shell
      me={me}
      onLogout={() => {
        void post("/api/logout").finally(() => {
          closeLive();
          setMe(undefined);
          setState("login");
        });
      }}
    />
  );
}

render(<App />, document.getElementById("app")!);
