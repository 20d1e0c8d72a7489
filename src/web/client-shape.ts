import type { DescMethodBiDiStreaming, DescMethodClientStreaming, DescMethodServerStreaming, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

/**
 * The one typed shape of a client method, shared by the node client
 * (goms/rpc, options `CallOptions`) and the browser client (goms/web, options
 * `WebCallOptions`): unary resolves with the response; a server stream returns
 * the responses as an AsyncIterable; a client stream takes an AsyncIterable of
 * requests and resolves with the response; bidi takes one and returns one.
 * Types only: no runtime code, so goms/web can import it in a browser bundle.
 */
export type ClientMethodShape<M, Opts> =
  M extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: Opts) => Promise<MessageShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageInitShape<I>, options?: Opts) => AsyncIterable<MessageShape<O>>
      : M extends DescMethodClientStreaming<infer I, infer O>
        ? (requests: AsyncIterable<MessageInitShape<I>>, options?: Opts) => Promise<MessageShape<O>>
        : M extends DescMethodBiDiStreaming<infer I, infer O>
          ? (requests: AsyncIterable<MessageInitShape<I>>, options?: Opts) => AsyncIterable<MessageShape<O>>
          : never;
