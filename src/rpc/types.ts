import type { ClientMethodShape } from "../web/client-shape.js";
import type {
  DescMessage,
  DescMethod,
  DescMethodBiDiStreaming,
  DescMethodClientStreaming,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { StreamKind } from "../internal/conn/stream-driver.js";
import type { HandlerContext, Metadata, ParentContext } from "../internal/conn/context.js";
import type { CallHedge } from "./hedge.js";
import type { GomsError } from "../errors/goms-error.js";

/** Options every call takes. */
export interface CallOptions {
  /** Aborting it cancels the call (the server's ctx.signal fires too). */
  signal?: AbortSignal | undefined;
  /** Deadline relative to now. Defaults to the node's defaultTimeoutMs; 0 means none. */
  timeoutMs?: number | undefined;
  /** Request metadata (lower-case ASCII keys). */
  metadata?: Metadata | undefined;
  /** Inherit the remaining deadline, cancellation and metadata of a handler's context. */
  parent?: ParentContext | undefined;
  /** Send to this node (by name) instead of load-balancing. */
  node?: string | undefined;
  /** Route by consistent hashing on this key: the same key reaches the same node while it is up. */
  shardKey?: string | undefined;
  /**
   * Retry on another node when a call fails with unavailable. Default: true for
   * methods declared idempotent (idempotency_level IDEMPOTENT or NO_SIDE_EFFECTS),
   * within the deadline and the node's retry budget; never for other methods.
   */
  retry?: boolean | undefined;
  /**
   * Called once when the call ends, however it ends, with the application
   * return code and the response metadata: for a stream, what its STREAM_END
   * carried (the handler's `ctx.ret` and `ctx.responseMetadata`, sent when it
   * finished); for an error, the error's `ret` and metadata. Not called for
   * one-way calls. The stream counterpart of reading `ret`/`metadata` off a
   * detailed result (Connect-ES's `onTrailer`).
   */
  onTrailer?: ((trailer: Metadata, ret: number) => void) | undefined;
  /**
   * This call's hedge, over its method's default (`calls.hedge`, see
   * docs/resilience.md#hedged-requests): `false`, never hedged; `{ afterMs }`,
   * a second copy to another node after `afterMs` ms without an answer (within
   * the retry budget), even for a method not declared idempotent: setting it
   * says the call is safe to run twice. Ignored with `retry: false`, `node`,
   * and for one-way and in-process calls.
   */
  hedge?: CallHedge | false | undefined;
}

/** The outcome of a call with everything that came back beside the message (ret, response metadata). */
export type { CallResult } from "../internal/conn/pending.js";
import type { CallResult } from "../internal/conn/pending.js";

type UnaryIn<M> = M extends DescMethodUnary<infer I, infer _O> ? I : never;
type UnaryOut<M> = M extends DescMethodUnary<infer _I, infer O> ? O : never;

/** A typed client method (docs/streams.md); the shape is shared with goms/web. */
export type ClientMethodOf<M> = ClientMethodShape<M, CallOptions>;

/** A typed client: one function per method of the service. */
export type Client<Desc extends DescService> = {
  [P in keyof Desc["method"]]: ClientMethodOf<Desc["method"][P]>;
};

/**
 * A server or bidi stream as detailedClient returns it: the responses, and,
 * once they ended cleanly, what the stream's end carried. `ret` and `trailer`
 * hold 0 and {} until `messages` is done; an error carries its own.
 */
export interface DetailedStream<T> {
  readonly messages: AsyncIterable<T>;
  /** The handler's ctx.ret, once the stream ended cleanly. */
  readonly ret: number;
  /** The handler's ctx.responseMetadata (trailing metadata), once the stream ended cleanly. */
  readonly trailer: Metadata;
}

/**
 * A detailed client method: unary and client-streaming methods resolve with
 * message, ret and metadata; server and bidi streams return a DetailedStream.
 */
export type DetailedMethodOf<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<CallResult<MessageShape<O>>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageInitShape<I>, options?: CallOptions) => DetailedStream<MessageShape<O>>
      : M extends DescMethodClientStreaming<infer I, infer O>
        ? (requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions) => Promise<CallResult<MessageShape<O>>>
        : M extends DescMethodBiDiStreaming<infer I, infer O>
          ? (requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions) => DetailedStream<MessageShape<O>>
          : never;

/** Like Client, but each method gives ret and response (trailing) metadata too. */
export type DetailedClient<Desc extends DescService> = {
  [P in keyof Desc["method"]]: DetailedMethodOf<Desc["method"][P]>;
};

/**
 * One-way sender: resolves once the request (for a client stream, every
 * request) was sent; no response, no ret. Server and bidi streams have no
 * one-way form (`never`; called anyway they reject with GOMS_ERR_STREAM_UNSUPPORTED).
 */
export type OneWayClient<Desc extends DescService> = {
  [P in keyof Desc["method"]]: Desc["method"][P] extends DescMethodUnary
    ? (request: MessageInitShape<UnaryIn<Desc["method"][P]>>, options?: CallOptions) => Promise<void>
    : Desc["method"][P] extends DescMethodClientStreaming<infer I, infer _O>
      ? (requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions) => Promise<void>
      : never;
};

/** One node's answer to a broadcast. */
export type BroadcastResult<T> =
  | { node: string; ok: true; message: T; ret: number }
  | { node: string; ok: false; error: import("../errors/goms-error.js").GomsError };

/**
 * Calls every connected node hosting the service, in parallel. Unary methods
 * only: stream methods are `never` (called anyway they reject with
 * GOMS_ERR_STREAM_UNSUPPORTED).
 */
export type BroadcastClient<Desc extends DescService> = {
  [P in keyof Desc["method"]]: Desc["method"][P] extends DescMethodUnary
    ? (request: MessageInitShape<UnaryIn<Desc["method"][P]>>, options?: CallOptions) => Promise<BroadcastResult<MessageShape<UnaryOut<Desc["method"][P]>>>[]>
    : never;
};

/** What a server-streaming or bidi handler returns: the responses, async or at hand, or a promise of them. */
type StreamOut<O extends DescMessage> =
  | AsyncIterable<MessageInitShape<O>>
  | Iterable<MessageInitShape<O>>
  | Promise<AsyncIterable<MessageInitShape<O>> | Iterable<MessageInitShape<O>>>;

/**
 * A handler for one method. Set ctx.ret for an application return code, and
 * ctx.responseMetadata for response metadata; a stream sends both in its end,
 * so set them any time before the handler finishes (after the last yield).
 * Streams (docs/streams.md): a server-streaming handler is `async *m(req, ctx)`
 * (or returns an AsyncIterable); a client-streaming one takes the requests as
 * an AsyncIterable and returns the response; a bidi one takes an AsyncIterable
 * and yields (or returns an AsyncIterable of) responses. A server-streaming or
 * bidi handler whose messages are at hand may return a synchronous iterable
 * (an array, a `function*`): it is sent without a promise per message.
 */
export type MethodImpl<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? (request: MessageShape<I>, ctx: HandlerContext) => MessageInitShape<O> | Promise<MessageInitShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageShape<I>, ctx: HandlerContext) => StreamOut<O>
      : M extends DescMethodClientStreaming<infer I, infer O>
        ? (requests: AsyncIterable<MessageShape<I>>, ctx: HandlerContext) => MessageInitShape<O> | Promise<MessageInitShape<O>>
        : M extends DescMethodBiDiStreaming<infer I, infer O>
          ? (requests: AsyncIterable<MessageShape<I>>, ctx: HandlerContext) => StreamOut<O>
          : never;

/** A service implementation: handlers keyed by method local name. Missing ones answer unimplemented. */
export type ServiceImpl<Desc extends DescService> = {
  [P in keyof Desc["method"]]?: MethodImpl<Desc["method"][P]>;
};

/** How a service is hosted: lifecycle hooks, and whether it is internal. */
export interface ServiceOptions extends ServiceHooks {
  /**
   * Callable over RPC only: the gateway answers 404, OpenAPI and the admin
   * console do not list it, and its descriptors are not published. Every
   * goms.v1.* service is internal whatever this says.
   */
  internal?: boolean;
}

/** Lifecycle hooks of a hosted service. */
export interface ServiceHooks {
  onStart?(): void | Promise<void>;
  onStop?(): void | Promise<void>;
  onPeerConnect?(peer: import("../gen/goms/v1/node_pb.js").NodeIdentity): void;
  onPeerDisconnect?(peer: import("../gen/goms/v1/node_pb.js").NodeIdentity, reason: import("../errors/goms-error.js").GomsError): void;
}

/**
 * A call as client interceptors see it. Every call takes this shape, whatever
 * made it: a typed client, a one-way sender, a broadcast (once per target
 * node), rawCall, the gateway, the admin console or the CLI.
 */
export interface UnaryRequest {
  readonly service: DescService;
  readonly method: DescMethod;
  /** The request message (or init shape); protobuf bytes when `raw`. */
  message: unknown;
  /** Milliseconds left for the call; 0 means no deadline. */
  timeoutMs: number;
  metadata: Metadata | undefined;
  signal: AbortSignal | undefined;
  /** Target node name, if the call is pinned to one. */
  readonly node: string | undefined;
  /** Consistent-hashing key, if the call routes by one. */
  readonly shardKey: string | undefined;
  /** The caller's retry choice; undefined means the method's idempotency decides. */
  readonly retry: boolean | undefined;
  /** No response is awaited: the call resolves once sent. */
  readonly oneWay: boolean;
  /** The call option `hedge`; undefined means the method's default. */
  readonly hedge?: CallHedge | false | undefined;
  /** `message` (and the response message) are protobuf bytes (rawCall). */
  readonly raw: boolean;
  /**
   * Set for a stream (its kind): `message` is then the one request (server
   * streaming) or an AsyncIterable of requests, and the response's `message`
   * an AsyncIterable of responses. An interceptor observes a stream's messages
   * by wrapping these iterables.
   */
  readonly stream: StreamKind | undefined;
}

/**
 * What the next function of a client interceptor resolves with; `message` is
 * undefined for one-way calls. For a stream, `message` is the AsyncIterable of
 * responses and `ret`/`metadata` are filled in when the stream ends cleanly,
 * before the iterable says done: an interceptor that wraps the messages sets
 * `res.message` on the object it got (observeStream, passing `res.ended`) and
 * returns that object, so that they reach the caller.
 */
export interface UnaryResponse {
  message: unknown;
  ret: number;
  metadata: Metadata;
  /**
   * Streams only: settles once when the stream ends, whether or not anyone
   * reads its messages: undefined for a clean end, else its error (the
   * server's status; canceled, deadline_exceeded; unavailable when the
   * connection is lost). For a retried stream, the end of the attempt that was
   * kept. observeStream(res.message, observer, res.ended) tells the observer's
   * `end` from it when the consumer does not read the end itself.
   */
  readonly ended?: Promise<GomsError | undefined>;
}

export type UnaryFn = (req: UnaryRequest) => Promise<UnaryResponse>;
/** Client interceptor: wraps the next function. Compose them like middleware. */
export type Interceptor = (next: UnaryFn) => UnaryFn;

export type HandlerFn = (request: unknown, ctx: HandlerContext) => unknown;
/** Server interceptor: wraps every handler of the node. */
export type ServerInterceptor = (next: HandlerFn) => HandlerFn;
