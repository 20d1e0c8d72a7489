// A watcher always gets past a large event (issue 10, defect 7), over a real
// `goms watch` child process: two 9 MiB puts make an 18 MiB event with its
// previous value, more than a 16 MiB frame. The server leaves the previous
// value out (and says so), and a later small put is still delivered. A client
// whose frame limit is smaller than the value itself gets a clear error that
// ends its watch, with the revision to resume from, instead of retrying forever.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { EVENT_TOO_LARGE_KEY, resumeRevisionOf } from "../../src/kv/errors.js";
import { brief, processFixture, startWatchProcess, take } from "./helpers.js";

const MiB = 1024 * 1024;
const { children, client } = processFixture({ timeoutMs: 30_000, retry: { initialMs: 20, maxMs: 200 } });

describe("large watch events", () => {
  it("two 9 MiB puts then a small put: the watcher sees all three, the second without its previous value", async () => {
    const srv = await startWatchProcess(["--port", "0", "--max-value-bytes", "10MiB"], children);
    const writer = client(srv.url);
    const watcher = client(srv.url);
    const w = watcher.watch("k/", 0);
    const big = new Uint8Array(9 * MiB).fill(7);
    await writer.put("k/big", big);
    await writer.put("k/big", big);
    await writer.put("k/small", new TextEncoder().encode("s"));
    const evs = await take(w, 3, 20_000);
    w.stop();
    assert.deepEqual(
      evs.map((e) => `${String(e.revision)}:${e.key}:${String(e.value?.length)}`),
      [`1:k/big:${String(9 * MiB)}`, `2:k/big:${String(9 * MiB)}`, "3:k/small:1"],
    );
    assert.equal(brief(evs[2]!), "3:put:k/small=s");
  });

  it("a client whose frame limit is below the value ends its watch with a clear error and a resume revision", async () => {
    const srv = await startWatchProcess(["--port", "0", "--max-value-bytes", "10MiB"], children);
    const writer = client(srv.url);
    const small = client(srv.url, { limits: { connection: { maxFrameSize: 4 * MiB } } });
    const w = small.watch("k/", 0);
    await writer.put("k/big", new Uint8Array(9 * MiB));
    await writer.put("k/small", new TextEncoder().encode("s"));
    let failure: unknown;
    try {
      for await (const _ of w) assert.fail("no event fits this client");
    } catch (e) {
      failure = e;
    }
    assert.ok(GomsError.is(failure), String(failure));
    assert.equal(failure.code, Code.ResourceExhausted);
    assert.match(failure.rawMessage, /revision 1 is \d+ bytes, more than this client accepts.*raise the client's maxFrameSize, or skip it by watching from revision 2/);
    assert.equal(failure.metadata[EVENT_TOO_LARGE_KEY], "1");
    const resume = resumeRevisionOf(failure);
    assert.equal(resume, 2);
    // Following the advice: the watch picks up after the big event.
    const w2 = small.watch("k/", resume! - 1);
    const [ev] = await take(w2, 1, 10_000);
    w2.stop();
    assert.equal(brief(ev!), "2:put:k/small=s");
  });
});
