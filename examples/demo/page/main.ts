// The demo's page: goms/web in a browser against the demo's gateway (same
// origin). It updates a key with DB.Update and follows it with DB.Watch, a
// server stream; built by Vite (examples/demo/page/vite.config.ts) into
// dist/demo-page, which the demo serves at /watch/.
import { Code, createWebClient, GomsError } from "../../../src/web/index.js";
import { DB } from "../../gen/goms/examples/v1/db_pb.js";

const db = createWebClient(DB, { baseUrl: location.origin });

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`#${id} is missing`);
  return e as T;
}

const keyInput = el<HTMLInputElement>("key");
const valueInput = el<HTMLInputElement>("value");
const watched = el<HTMLOutputElement>("watched");
const version = el<HTMLSpanElement>("version");
const status = el<HTMLDivElement>("status");
const log = el<HTMLOListElement>("log");

let current: AbortController | undefined;

/**
 * Follows `key` until another key is chosen. The gateway bounds every stream
 * by a deadline (here the longest it allows, 60 s): when one ends, the page
 * watches again, and the stream starts with the current value, so no change is
 * missed for long.
 */
async function follow(key: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      status.textContent = `watching "${key}"`;
      for await (const c of db.watch({ key }, { signal, timeoutMs: 60_000 })) {
        watched.textContent = c.value === "" ? "(empty)" : c.value;
        version.textContent = `version ${c.version}`;
        const li = document.createElement("li");
        li.textContent = `${new Date().toLocaleTimeString()}  ${c.key} = ${JSON.stringify(c.value)} (version ${c.version})`;
        log.prepend(li);
        while (log.children.length > 50) log.lastElementChild?.remove();
      }
    } catch (e) {
      if (signal.aborted) return;
      const err = GomsError.is(e) ? e : undefined;
      if (err?.code === Code.DeadlineExceeded) continue;
      status.textContent = `the watch ended: ${err?.rawMessage ?? String(e)}; watching again in 2 s`;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

function watchKey(): void {
  current?.abort();
  const ac = new AbortController();
  current = ac;
  watched.textContent = "…";
  version.textContent = "";
  void follow(keyInput.value, ac.signal);
}

keyInput.addEventListener("change", watchKey);
el<HTMLFormElement>("update").addEventListener("submit", (ev) => {
  ev.preventDefault();
  db.update({ key: keyInput.value, value: valueInput.value }).then(
    () => (status.textContent = `watching "${keyInput.value}" (updated)`),
    (e: unknown) => (status.textContent = `Update failed: ${GomsError.is(e) ? e.rawMessage : String(e)}`),
  );
});
watchKey();
