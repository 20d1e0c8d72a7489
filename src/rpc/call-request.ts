import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { Metadata } from "../internal/conn/context.js";
import type { OutgoingCall } from "../internal/conn/pending.js";
import type { StreamKind } from "../internal/conn/stream-driver.js";
import type { RoutedMethod } from "./client-method.js";
import type { CallHedge } from "./hedge.js";
import type { UnaryRequest } from "./types.js";

/**
 * The one call object. A client method, rawCall, a broadcast, the gateway,
 * the admin console and the CLI all create one of these; it goes through the
 * client interceptors (as the `UnaryRequest` they see), then routing, then the
 * connection, which encodes straight from it.
 */
export class CallRequest implements UnaryRequest, OutgoingCall {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly route: RoutedMethod;
  readonly raw: boolean;
  readonly stream: StreamKind | undefined;
  /** The call option `hedge` (set by the Caller after construction): undefined, the method's default. */
  hedge: CallHedge | false | undefined = undefined;

  constructor(
    route: RoutedMethod,
    public message: unknown,
    public timeoutMs: number,
    public metadata: Metadata | undefined,
    public signal: AbortSignal | undefined,
    readonly node: string | undefined,
    readonly shardKey: string | undefined,
    readonly retry: boolean | undefined,
    readonly oneWay: boolean,
  ) {
    this.route = route;
    this.method = route.desc;
    this.service = route.desc.parent;
    this.raw = route.raw;
    this.stream = route.stream;
  }
}
