/** Tunables shared by client and server connections. All have safe defaults. */
export interface ConnOptions {
  /** Largest frame accepted, in bytes. Default 16 MiB. */
  maxFrameSize: number;
  /** Idle interval after which a PING is sent, ms. Default 5000. */
  heartbeatMs: number;
  /** No frame at all for this long closes the connection, ms. Default 15000. */
  heartbeatTimeoutMs: number;
  /** Preface + HELLO must complete within this, ms. Default 5000. */
  handshakeTimeoutMs: number;
  /** Bytes buffered in the socket beyond which the writer applies back-pressure. Default 8 MiB. */
  maxBufferedBytes: number;
  /** A write batch is flushed once it holds this many frames. Default 32. */
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
  maxBatchFrames: 32,
  maxBatchBytes: 64 * 1024,
};
