import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { GomsError } from "../../errors/index.js";
import { gomsError } from "../../errors/index.js";

/** Gets the body text, or why there is none. */
export type BodyCallback = (err: GomsError | undefined, text: string) => void;

/**
 * Reads the whole request body as UTF-8, at most `limit` bytes and within
 * `timeoutMs`. Rejects with GOMS_ERR_BODY_TOO_LARGE (HTTP 413) as soon as the
 * Content-Length or the bytes read pass the limit, GOMS_ERR_BODY_TIMEOUT (408)
 * for a client trickling its body, GOMS_ERR_CLIENT_GONE when the client goes away.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => readBodyThen(req, limit, timeoutMs, (err, text) => (err === undefined ? resolve(text) : reject(err))));
}

/**
 * readBody with a callback, for hot paths: no promise per request. `done` is
 * called exactly once, never synchronously; it must not throw (it runs from
 * the request's events).
 */
export function readBodyThen(req: IncomingMessage, limit: number, timeoutMs: number, done: BodyCallback): void {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    process.nextTick(done, gomsError("GOMS_ERR_BODY_TOO_LARGE", { limit }), "");
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  // Listeners stay on the request after the end: a late "error" then finds one (and is ignored).
  const finish = (err: GomsError | undefined, text: string): void => {
    if (finished) return;
    finished = true;
    deadline.disarm(finish);
    if (err !== undefined) req.off("data", onData);
    done(err, text);
  };
  const onData = (c: Buffer): void => {
    size += c.length;
    if (size > limit) {
      req.pause();
      finish(gomsError("GOMS_ERR_BODY_TOO_LARGE", { limit }), "");
      return;
    }
    chunks.push(c);
  };
  const deadline = bodyDeadline(req.socket, timeoutMs);
  deadline.arm(finish);
  req.on("data", onData);
  req.on("end", () => finish(undefined, chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, size).toString("utf8")));
  req.on("error", (e: Error) => finish(gomsError("GOMS_ERR_CLIENT_GONE", { why: e.message }, { cause: e }), ""));
  req.on("aborted", () => finish(gomsError("GOMS_ERR_CLIENT_GONE", { why: "request aborted" }), ""));
}

type Finish = (err: GomsError | undefined, text: string) => void;

/**
 * The body timeout of one connection. HTTP/1.1 sends bodies one after the
 * other on a connection, so one timer per connection, re-armed with
 * refresh() for each body, serves them all: no timer is created and cleared
 * per request. It is left running when a body ends and does nothing when it
 * fires with no body pending. A second body read while one is pending on the
 * same connection (a handler reading late, after a pipelined request) gets a
 * timer of its own.
 */
class BodyDeadline {
  private pending: Finish | undefined = undefined;
  private readonly timer: NodeJS.Timeout;
  /** Timers of bodies read while another was pending. */
  private extra: Map<Finish, NodeJS.Timeout> | undefined;

  constructor(readonly ms: number) {
    this.timer = setTimeout(expire, ms, this, undefined);
    this.timer.unref();
  }

  arm(finish: Finish): void {
    if (this.pending === undefined) {
      this.pending = finish;
      this.timer.refresh();
      return;
    }
    const t = setTimeout(expire, this.ms, this, finish);
    t.unref();
    (this.extra ??= new Map()).set(finish, t);
  }

  disarm(finish: Finish): void {
    if (this.pending === finish) this.pending = undefined;
    else if (this.extra !== undefined) {
      clearTimeout(this.extra.get(finish));
      this.extra.delete(finish);
    }
  }

  /** The timer of `finish` (undefined: the shared one) went off. */
  expired(finish: Finish | undefined): void {
    const f = finish ?? this.pending;
    if (f === undefined) return;
    this.disarm(f);
    f(gomsError("GOMS_ERR_BODY_TIMEOUT", { ms: this.ms }), "");
  }
}

function expire(d: BodyDeadline, finish: Finish | undefined): void {
  d.expired(finish);
}

const deadlines = new WeakMap<Socket, BodyDeadline>();

function bodyDeadline(socket: Socket | null, ms: number): BodyDeadline {
  if (socket === null) return new BodyDeadline(ms);
  let d = deadlines.get(socket);
  if (d === undefined || d.ms !== ms) {
    d = new BodyDeadline(ms);
    deadlines.set(socket, d);
  }
  return d;
}
