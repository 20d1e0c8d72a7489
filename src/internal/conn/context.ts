import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { NodeIdentity } from "../../gen/goms/v1/node_pb.js";
import type { Metadata } from "../wire/metadata.js";

export type { Metadata };

/** Who is calling. */
export interface PeerInfo {
  /** "ip:port" of the remote socket, "memory", or "local" for in-process calls. */
  readonly address: string;
  /** The calling node's identity from its HELLO (undefined for plain clients). */
  readonly node: NodeIdentity | undefined;
  /** True when the call runs in-process, without the network. */
  readonly local: boolean;
  /** Subject CN of the verified client certificate (mTLS). */
  readonly certificateCN?: string | undefined;
}

/** What a handler gets beside its request. */
export interface HandlerContext {
  readonly service: DescService;
  readonly method: DescMethod;
  /**
   * Aborted when the caller cancels, the deadline passes, the connection drops
   * or the node shuts down. Created on first access.
   */
  readonly signal: AbortSignal;
  /** Absolute deadline (Date.now() based, ms), or undefined when the caller set none. */
  readonly deadline: number | undefined;
  /** Milliseconds left before the deadline, or undefined without one. */
  timeRemaining(): number | undefined;
  /** Request metadata. */
  readonly metadata: Readonly<Metadata>;
  /** Metadata to send back with the response (or error). */
  readonly responseMetadata: Metadata;
  /** Application return code sent beside the response (0..65535), separate from the error code. */
  ret: number;
  readonly peer: PeerInfo;
  /** True for one-way calls: the caller gets no response. */
  readonly oneWay: boolean;
}

/** What nested calls inherit from: pass a HandlerContext as `parent`. */
export interface ParentContext {
  readonly signal: AbortSignal;
  readonly deadline: number | undefined;
  readonly metadata: Readonly<Metadata>;
}
