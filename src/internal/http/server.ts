import type { Server, ServerOptions } from "node:http";
import type { AddressInfo } from "node:net";

/** The node:http timeouts of a goms HTTP server (gateway, admin). */
export interface HttpTimeouts {
  /** Time to receive the request headers (slow-header clients are cut after it). */
  headersTimeoutMs: number;
  /** Time to receive the whole request. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
}

/**
 * node:http server options enforcing `t`. node:http checks headersTimeout and
 * requestTimeout only every `connectionsCheckingInterval` (default 30 s), so
 * without a shorter interval a 10 s header timeout really cuts a slow client
 * after 30-40 s. The interval is half the header timeout, within 50 ms - 1 s.
 */
export function httpServerOptions(t: HttpTimeouts): ServerOptions {
  const requestTimeout = t.requestTimeoutMs;
  // node:http refuses a header timeout above the request timeout.
  const headersTimeout = Math.min(t.headersTimeoutMs, requestTimeout);
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 2))),
  };
}

/** Where an HTTP component listens. */
export interface HttpListen {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free one. */
  port?: number;
}

/** Listens on `port`/`host`; resolves with the bound port, rejects on a listen error (port in use, ...). */
export function listenHttp(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** "http://host:port", with IPv6 hosts in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${String(port)}`;
}

/**
 * Graceful close for servers that do not count their requests: stop
 * accepting, give the requests in flight up to `graceMs` to finish, then cut
 * what is left. node:http keeps a finished keep-alive connection open until
 * its keepAliveTimeout even while the server closes, so idle connections are
 * swept every few ms during the grace period: the close ends as soon as the
 * last request does.
 */
export async function closeHttp(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const sweep = setInterval(() => server.closeIdleConnections(), 20);
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  clearInterval(sweep);
  server.closeAllConnections();
  await closed;
}
