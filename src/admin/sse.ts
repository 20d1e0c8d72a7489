import type { ServerResponse } from "node:http";
import { gomsError } from "../errors/index.js";
import { errorBody } from "../internal/http/json.js";
import { SseStream, type SseLimits } from "../internal/http/sse.js";
import { CappedMap } from "../internal/util/capped-map.js";
import type { Session } from "./sessions.js";

/** Admin event-stream settings (AdminOptions.sse). */
export interface AdminSseLimits extends SseLimits {
  /** Open streams (all users). Default 256; past it new streams get 429. */
  maxStreams?: number;
}

interface Tracked {
  session: Session;
  /** Receives broadcasts (/api/events); registry watches do not. */
  broadcast: boolean;
  /** Ends the stream when the session expires. */
  expiry: NodeJS.Timeout;
}

/**
 * The admin's open event streams, each tied to the session that opened it:
 * revoking a session (logout, password or role change, expiry) ends its
 * streams at once, with a last `event: error` saying why
 * (GOMS_ERR_SESSION_ENDED). Bounds come from SseStream (bytes held per
 * client) and from maxStreams.
 */
export class LiveStreams {
  private readonly streams: CappedMap<SseStream, Tracked>;
  private readonly limits: SseLimits;

  constructor(limits: AdminSseLimits = {}) {
    const { maxStreams = 256, ...perStream } = limits;
    this.limits = perStream;
    this.streams = new CappedMap(maxStreams, (limit) => gomsError("GOMS_ERR_TOO_MANY_STREAMS", { limit }));
  }

  /** Streams that receive broadcasts. */
  get broadcasting(): number {
    let n = 0;
    for (const t of this.streams.values()) if (t.broadcast) n++;
    return n;
  }

  /** Starts an SSE response for `session`; throws GOMS_ERR_TOO_MANY_STREAMS (before any byte is sent) when full. */
  open(res: ServerResponse, session: Session, broadcast: boolean): SseStream {
    if (this.streams.isFull) throw gomsError("GOMS_ERR_TOO_MANY_STREAMS", { limit: this.streams.limit });
    const stream = new SseStream(res, this.limits);
    // setTimeout's longest delay is about 24.8 days; sessions are far shorter.
    const expiry = setTimeout(() => this.end(stream, "the session expired"), Math.min(Math.max(0, session.exp - Date.now()), 2 ** 31 - 1));
    expiry.unref();
    this.streams.set(stream, { session, broadcast, expiry });
    stream.onClose(() => {
      clearTimeout(expiry);
      this.streams.delete(stream);
    });
    return stream;
  }

  /** Sends an event to every broadcast stream. */
  broadcast(event: string, data: unknown): void {
    for (const [stream, t] of this.streams) if (t.broadcast) stream.send(event, data);
  }

  /** Ends the streams of one session (logout). */
  endSession(sid: string, why: string): void {
    for (const [stream, t] of this.streams) if (t.session.sid === sid) this.end(stream, why);
  }

  /** Ends the streams of every session of `user` (password or role change, user removed). */
  endUser(user: string, why: string): void {
    for (const [stream, t] of this.streams) if (t.session.user === user) this.end(stream, why);
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const stream of [...this.streams.keys()]) stream.end();
  }

  private end(stream: SseStream, why: string): void {
    stream.end({ name: "error", data: errorBody(gomsError("GOMS_ERR_SESSION_ENDED", { why })) });
  }
}
