import net from "node:net";
import tls from "node:tls";
import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import type { AcceptInfo, Listener, Stream, Transport } from "./types.js";

export interface TlsServerOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** CA used to verify client certificates (mTLS). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Require and verify a client certificate (mTLS). */
  requestClientCert?: boolean;
}

export interface TlsClientOptions {
  /** CA used to verify the server certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and key (mTLS). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Server name to verify; defaults to the dialled host. */
  servername?: string;
  /** Defaults to true. Turning it off disables server verification. */
  rejectUnauthorized?: boolean;
}

export interface TcpTransportOptions {
  tls?: TlsServerOptions;
  peerTls?: TlsClientOptions;
  /** Max simultaneous inbound connections; beyond it new sockets are closed at once. */
  maxConnections?: number;
}

export function tcpTransport(options: TcpTransportOptions = {}): Transport {
  return {
    listen(host, port, onStream) {
      return new Promise<Listener>((resolve, reject) => {
        const handler = (socket: net.Socket): void => {
          socket.setNoDelay(true);
          const info: AcceptInfo = { remoteAddress: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}` };
          if (socket instanceof tls.TLSSocket) {
            const cn = socket.getPeerCertificate().subject?.CN;
            if (typeof cn === "string") info.peerCertificateCN = cn;
          }
          onStream(socket, info);
        };
        const server: net.Server = options.tls
          ? tls.createServer(
              {
                key: options.tls.key,
                cert: options.tls.cert,
                ...(options.tls.ca !== undefined ? { ca: options.tls.ca } : {}),
                requestCert: options.tls.requestClientCert ?? false,
                rejectUnauthorized: options.tls.requestClientCert ?? false,
              },
              handler,
            )
          : net.createServer({ noDelay: true }, handler);
        server.maxConnections = options.maxConnections ?? 10_000;
        // TLS handshake failures and resets on accepted sockets must not crash the process.
        server.on("tlsClientError", (_err, socket) => socket.destroy());
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          server.on("error", () => undefined);
          const addr = server.address();
          const bound = typeof addr === "object" && addr ? addr.port : port;
          resolve({
            port: bound,
            close: () => new Promise<void>((res) => server.close(() => res())),
          });
        });
      });
    },
    dial(host, port, timeoutMs) {
      return new Promise<Stream>((resolve, reject) => {
        const peerTls = options.peerTls;
        const socket: net.Socket = peerTls
          ? tls.connect({
              host,
              port,
              servername: peerTls.servername ?? (net.isIP(host) ? "localhost" : host),
              rejectUnauthorized: peerTls.rejectUnauthorized ?? true,
              ...(peerTls.ca !== undefined ? { ca: peerTls.ca } : {}),
              ...(peerTls.cert !== undefined ? { cert: peerTls.cert } : {}),
              ...(peerTls.key !== undefined ? { key: peerTls.key } : {}),
            })
          : net.connect({ host, port, noDelay: true });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new GomsError(`connect to ${host}:${port} timed out after ${timeoutMs}ms`, Code.Unavailable));
        }, timeoutMs);
        const onError = (err: Error): void => {
          clearTimeout(timer);
          socket.destroy();
          reject(new GomsError(`connect to ${host}:${port} failed: ${err.message}`, Code.Unavailable, { cause: err }));
        };
        socket.once("error", onError);
        socket.once(peerTls ? "secureConnect" : "connect", () => {
          clearTimeout(timer);
          socket.off("error", onError);
          socket.setNoDelay(true);
          resolve(socket);
        });
      });
    },
  };
}
