// The page script of the browser test, built with Vite (index.html next to it):
// goms/web against a real gateway, driven by test/web/browser.test.ts.
import { createWebClient, GomsError } from "../../../src/web/index.js";
import { DB } from "../../../examples/gen/goms/examples/v1/db_pb.js";
import { StreamTest } from "../../gen/goms/test/v1/streams_pb.js";

function errorOf(e: unknown): { code: string; ret: number; message: string } {
  return GomsError.is(e) ? { code: String(e.code), ret: e.ret, message: e.rawMessage } : { code: "not a GomsError", ret: 0, message: String(e) };
}

const api = {
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
