// The page script of the browser test, built with Vite (index.html next to it):
// goms/web against a real gateway, driven by test/web/browser.test.ts.
import { createWebClient, GomsError, resumeStream } from "../../../src/web/index.js";
import { DB } from "../../../examples/gen/goms/examples/v1/db_pb.js";
import { StreamTest } from "../../gen/goms/test/v1/streams_pb.js";

function errorOf(e: unknown): { code: string; ret: number; message: string } {
  return GomsError.is(e) ? { code: String(e.code), ret: e.ret, message: e.rawMessage } : { code: "not a GomsError", ret: 0, message: String(e) };
}

/** What follow() saw so far: each value of the key, and each retry's code. */
const following = { values: [] as string[], retries: [] as string[], ended: undefined as ReturnType<typeof errorOf> | undefined, ac: new AbortController() };

const api = {
  /** Starts following `key` with resumeStream (short waits, for the test); returns at once. */
  follow(baseUrl: string, key: string): void {
    const db = createWebClient(DB, { baseUrl });
    following.ac = new AbortController();
    const changes = resumeStream(db.watch, () => ({ key }), {
      signal: following.ac.signal,
      initialDelayMs: 20,
      maxDelayMs: 200,
      onRetry: ({ error }) => following.retries.push(String(error.code)),
    });
    void (async () => {
      try {
        for await (const c of changes) following.values.push(c.value);
      } catch (e) {
        following.ended = errorOf(e);
      }
    })();
  },
  followed(): { values: string[]; retries: string[]; ended: ReturnType<typeof errorOf> | undefined } {
    return { values: [...following.values], retries: [...following.retries], ended: following.ended };
  },
  stopFollow(): void {
    following.ac.abort();
  },
  async unary(baseUrl: string, key: string, value: string): Promise<string> {
    const db = createWebClient(DB, { baseUrl });
    await db.update({ key, value });
    return (await db.query({ key })).value;
  },
  async stream(baseUrl: string, count: number, failAfter: number): Promise<{ got: number[]; error?: ReturnType<typeof errorOf> }> {
    const st = createWebClient(StreamTest, { baseUrl });
    const got: number[] = [];
    try {
      for await (const item of st.count({ count, failAfter, size: 8 }, { timeoutMs: 10_000 })) got.push(item.n);
      return { got };
    } catch (e) {
      return { got, error: errorOf(e) };
    }
  },
  async abortAfter(baseUrl: string, n: number): Promise<{ got: number; error: ReturnType<typeof errorOf> | undefined }> {
    const st = createWebClient(StreamTest, { baseUrl });
    const ac = new AbortController();
    let got = 0;
    try {
      for await (const _ of st.count({ count: 100_000_000 }, { signal: ac.signal })) if (++got === n) ac.abort();
      return { got, error: undefined };
    } catch (e) {
      return { got, error: errorOf(e) };
    }
  },
  async bidi(baseUrl: string, n: number): Promise<{ echoed: number[]; sum: string }> {
    const st = createWebClient(StreamTest, { baseUrl });
    async function* items() {
      for (let i = 1; i <= n; i++) yield { n: i };
    }
    const echoed: number[] = [];
    for await (const r of st.echo(items())) echoed.push(r.n);
    const s = await st.sum(items());
    return { echoed, sum: s.total.toString() };
  },
};

(globalThis as unknown as { gomsWeb: typeof api }).gomsWeb = api;
