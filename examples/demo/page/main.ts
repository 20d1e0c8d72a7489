// The demo's page: goms/web in a browser against the demo's gateway (same
// origin). It updates a key with DB.Update and follows it with DB.Watch, a
// server stream; built by Vite (examples/demo/page/vite.config.ts) into
// dist/demo-page, which the demo serves at /watch/.
import { Code, createWebClient, GomsError, resumeStream } from "../../../src/web/index.js";
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
 * by a deadline (here the longest it allows, 60 s), and the gateway may
 * restart: resumeStream opens the watch again after either, waiting longer
 * after each failure in a row. The stream starts with the current value, so
 * nothing set meanwhile is missed.
 */
async function follow(key: string, signal: AbortSignal): Promise<void> {
  status.textContent = `watching "${key}"`;
  const changes = resumeStream(db.watch, () => ({ key }), {
    signal,
    call: { timeoutMs: 60_000 },
    onRetry: ({ error, delayMs }) => {
      if (error.code !== Code.DeadlineExceeded) status.textContent = `the watch ended: ${error.rawMessage}; watching again in ${Math.ceil(delayMs / 1000)} s`;
    },
  });
  try {
    for await (const c of changes) {
      status.textContent = `watching "${key}"`;
      watched.textContent = c.value === "" ? "(empty)" : c.value;
      version.textContent = `version ${c.version}`;
      const li = document.createElement("li");
      li.textContent = `${new Date().toLocaleTimeString()}  ${c.key} = ${JSON.stringify(c.value)} (version ${c.version})`;
      log.prepend(li);
      while (log.children.length > 50) log.lastElementChild?.remove();
    }
  } catch (e) {
    if (!signal.aborted) status.textContent = `the watch failed: ${GomsError.is(e) ? e.rawMessage : String(e)}`;
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
