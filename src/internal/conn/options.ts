import { create } from "@bufbuild/protobuf";
import { HelloSchema, type Hello, type NodeIdentity } from "../../gen/goms/v1/node_pb.js";

/** Tunables shared by client and server connections. All have safe defaults. */
export interface ConnOptions {
  /** Largest frame accepted, in bytes. Default 16 MiB. */
  maxFrameSize: number;
  /** A PING is sent once this long has passed without receiving anything, ms. Announced in HELLO. Default 5000. */
  heartbeatMs: number;
  /**
   * Nothing received for this long closes the connection (GOAWAY 14 "idle timeout"), ms.
   * The timeout used is the larger of this and 3 x the peer's announced heartbeat. Default 15000.
   */
  heartbeatTimeoutMs: number;
  /** Preface + HELLO must complete within this, ms. Default 5000. */
  handshakeTimeoutMs: number;
  /**
   * Output bound of a connection, in bytes (socket buffer + frames queued + encoded
   * responses waiting). Past it a server connection stops reading (no new calls are
   * dispatched) until the buffer drains; a response that would push the buffer past
   * twice this is not buffered: the server sends GOAWAY 8 "peer not reading" and
   * closes. A client fails new calls with GOMS_ERR_PEER_NOT_READING past it. Default 8 MiB.
   */
  maxBufferedBytes: number;
  /** A server connection whose output stays past maxBufferedBytes this long is closed (GOAWAY 8), ms. Default 30000. */
  stallTimeoutMs: number;
  /** Initial per-stream receive window in bytes, announced in HELLO as stream_window. Default 256 KiB. */
  streamWindow: number;
  /** Streams served at once on one connection, announced in HELLO; past it a STREAM_OPEN is answered status 8. Default 100. */
  maxConcurrentStreams: number;
  /** A write batch is flushed once it holds this many frames. Default 32. (Stream messages count by bytes only: see Conn.streamFrameWritten.) */
  maxBatchFrames: number;
  /** ... or this many bytes. Default 64 KiB. */
  maxBatchBytes: number;
}

export const defaultConnOptions: ConnOptions = {
  maxFrameSize: 16 * 1024 * 1024,
  heartbeatMs: 5000,
  heartbeatTimeoutMs: 15000,
  handshakeTimeoutMs: 5000,
  maxBufferedBytes: 8 * 1024 * 1024,
  stallTimeoutMs: 30_000,
  streamWindow: 256 * 1024,
  maxConcurrentStreams: 100,
  maxBatchFrames: 32,
  maxBatchBytes: 64 * 1024,
};

/** The HELLO a node announces: its identity and the limits its connections keep (docs/protocol.md, HELLO). */
export function makeHello(node: NodeIdentity, opts: ConnOptions, maxConcurrentCalls: number, token?: string): Hello {
  return create(HelloSchema, {
    node,
    maxFrameSize: opts.maxFrameSize,
    maxConcurrentCalls,
    heartbeatMs: opts.heartbeatMs,
    streamWindow: opts.streamWindow,
    maxConcurrentStreams: opts.maxConcurrentStreams,
    ...(token !== undefined ? { token } : {}),
  });
}
