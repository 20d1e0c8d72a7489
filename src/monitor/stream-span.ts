import { context, type Context, type Span } from "@opentelemetry/api";
import type { GomsError } from "../errors/goms-error.js";
import { observeStream } from "../rpc/stream-observe.js";

/** Message events a stream's span records by default; the rest are only counted. */
export const DEFAULT_MAX_MESSAGE_EVENTS = 32;

/**
 * The message events of one stream's span, as OpenTelemetry's RPC
 * conventions name them ("message", with message.type SENT or RECEIVED and a
 * per-direction message.id from 1). A long stream would grow its span without
 * bound, so only the first `cap` messages get an event; the totals are set as
 * attributes when the span ends (goms.stream.messages_sent and
 * goms.stream.messages_received, and goms.stream.events_dropped when some
 * messages had no event).
 */
export class MessageEvents {
  private sent = 0;
  private received = 0;
  /** Set by totals(): the span ended, so messages taken later are not recorded on it. */
  private closed = false;

  constructor(
    private readonly span: Span,
    private readonly cap: number,
  ) {}

  add(type: "SENT" | "RECEIVED"): void {
    if (this.closed) return;
    const id = type === "SENT" ? ++this.sent : ++this.received;
    if (this.sent + this.received <= this.cap) this.span.addEvent("message", { "message.type": type, "message.id": id });
  }

  /** Sets the totals; call once, before the span ends. */
  totals(): void {
    this.closed = true;
    this.span.setAttribute("goms.stream.messages_sent", this.sent);
    this.span.setAttribute("goms.stream.messages_received", this.received);
    const dropped = this.sent + this.received - this.cap;
    if (dropped > 0) this.span.setAttribute("goms.stream.events_dropped", dropped);
  }
}

/**
 * `messages` with one event per message taken, run in `ctx` (so that calls a
 * generator handler makes between its yields are children of the span), and
 * `end` told once how the stream ended (read or not, with the stream's
 * `ended`: see observeStream).
 */
export function tracedMessages(
  messages: AsyncIterable<unknown> | Iterable<unknown>,
  type: "SENT" | "RECEIVED",
  ev: MessageEvents,
  ctx: Context,
  end?: (err: GomsError | undefined) => void,
  ended?: Promise<GomsError | undefined>,
): AsyncIterableIterator<unknown> {
  return observeStream(
    messages,
    {
      message: () => ev.add(type),
      ...(end !== undefined ? { end } : {}),
      around: (pull) => context.with(ctx, pull),
    },
    ended,
  );
}
