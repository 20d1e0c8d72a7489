import type { Duplex } from "node:stream";

/** A byte stream to a peer: a net.Socket, a tls.TLSSocket, or an in-memory duplex. */
export type Stream = Duplex & { readonly writableLength: number };

export interface Listener {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Stops accepting. Existing streams are not touched. */
  close(): Promise<void>;
}

export interface AcceptInfo {
  remoteAddress: string;
  /** Peer certificate subject CN (mTLS), when the transport authenticated one. */
  peerCertificateCN?: string;
}

/** How nodes listen and dial. TCP (optionally TLS) in production; in-memory for unit tests. */
export interface Transport {
  listen(host: string, port: number, onStream: (s: Stream, info: AcceptInfo) => void): Promise<Listener>;
  dial(host: string, port: number, timeoutMs: number): Promise<Stream>;
}
