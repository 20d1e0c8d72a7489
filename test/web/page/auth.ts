// The page script of test/web/browser-auth.test.ts: goms/web with a bearer
// token, over the browser's own WebSocket (which cannot carry headers).
import { createWebClient, GomsError } from "../../../src/web/index.js";
import { StreamTest } from "../../gen/goms/test/v1/streams_pb.js";

const api = {
  /** A bidi exchange with `token` (none when undefined): the echoed numbers, or the error's code. */
  async echo(baseUrl: string, token: string | undefined, n: number): Promise<{ echoed: number[]; error?: string }> {
    const st = createWebClient(StreamTest, { baseUrl, token });
    async function* items() {
      for (let i = 1; i <= n; i++) yield { n: i };
    }
    const echoed: number[] = [];
    try {
      for await (const r of st.echo(items())) echoed.push(r.n);
      return { echoed };
    } catch (e) {
      return { echoed, error: GomsError.is(e) ? String(e.code) : String(e) };
    }
  },
};

(globalThis as unknown as { gomsAuth: typeof api }).gomsAuth = api;
