import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { brief, enc, Fixture, proxy, take } from "./helpers.js";

const fx = new Fixture();
afterEach(() => fx.close());
after(() => fx.close());

describe("watch resumption", () => {
  it("resumes across a restart of a persistent server: exactly the missed events, in order, once", async () => {
    const dir = fx.tempDir();
    const s1 = await fx.server({ dir, fsync: false });
    const port = s1.port;
    const c = fx.client(s1.url);
    const other = fx.client(s1.url);
    await c.put("svc/a", enc("1"));
    await c.put("svc/b", enc("2"));
    await c.put("zzz", enc("x"));
    const w = c.watch("svc/", 0);
    assert.deepEqual((await take(w, 2)).map(brief), ["1:put:svc/a=1", "2:put:svc/b=2"]);

    await s1.close();
    await new Promise((r) => setTimeout(r, 150)); // the watch now retries with backoff
    const s2 = await fx.server({ dir, fsync: false, listen: { port } });
    assert.equal(s2.store.revision, 3, "the revision continues after a restart");
    await other.put("svc/c", enc("3"));
    await other.delete("svc/a");
    await other.put("other", enc("-"));
    await other.put("svc/d", enc("4"));
    assert.deepEqual((await take(w, 3)).map(brief), ["4:put:svc/c=3", "5:delete:svc/a=", "7:put:svc/d=4"]);

    // No duplicates: the next event is the next change.
    await other.put("svc/e", enc("5"));
    assert.deepEqual((await take(w, 1)).map(brief), ["8:put:svc/e=5"]);
    w.stop();
  });

  for (const watchMode of ["stream", "poll"] as const) {
    it(`resumes across connection loss without losing or doubling events (${watchMode})`, async () => {
      const s = await fx.server();
      const p = await proxy(s.port);
      try {
        const c = fx.client(`watch://127.0.0.1:${String(p.port)}`, { watchMode });
        const w = c.watch("", 0);
        s.store.put("k1", "a");
        assert.deepEqual((await take(w, 1)).map(brief), ["1:put:k1=a"]);
        for (let round = 0; round < 3; round++) {
          p.cut();
          s.store.put(`cut${String(round)}`, "x");
          s.store.put(`cut${String(round)}b`, "y");
          const evs = await take(w, 2, 5000);
          assert.deepEqual(evs.map((e) => e.revision), [2 + round * 2, 3 + round * 2]);
        }
        s.store.put("last", "z");
        assert.deepEqual((await take(w, 1)).map(brief), ["8:put:last=z"]);
        w.stop();
      } finally {
        await p.close();
      }
    });
  }

  it("a restarted in-memory server lost the history: the watch ends with OutOfRange", async () => {
    const s1 = await fx.server();
    const port = s1.port;
    const c = fx.client(s1.url);
    await c.put("a", enc("1"));
    await c.put("b", enc("2"));
    const w = c.watch("", 0);
    await take(w, 2);
    await s1.close();
    await fx.server({ listen: { port } });
    const err = await w[Symbol.asyncIterator]().next().catch((e: unknown) => e);
    assert.ok(GomsError.is(err) && err.code === Code.OutOfRange, String(err));
  });

  it("a watch started while the server is down waits for it", async () => {
    const s1 = await fx.server({ fsync: false, dir: fx.tempDir() });
    const port = s1.port;
    const dir = fx.tempDir();
    await s1.close();
    const c = fx.client(`watch://127.0.0.1:${String(port)}`);
    const w = c.watch("", 0);
    await new Promise((r) => setTimeout(r, 200));
    const s2 = await fx.server({ listen: { port }, dir, fsync: false });
    s2.store.put("k", "v");
    assert.deepEqual((await take(w, 1, 5000)).map(brief), ["1:put:k=v"]);
    w.stop();
  });
});
