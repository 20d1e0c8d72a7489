import { createServer, type RequestListener, type Server } from "node:http";
import { closeHttp, listenHttp, type HttpListen } from "../internal/http/server.js";

/**
 * A small node:http server of the monitor module (the /metrics port, the
 * health port): listens on `listen` (default 127.0.0.1, a free port) at
 * start(), and close() lets requests in flight finish within a grace period.
 */
export class HttpPort {
  readonly server: Server;
  private readonly listenOn: HttpListen;
  private boundPort = 0;
  private closing: Promise<void> | undefined;

  constructor(handler: RequestListener, listen: HttpListen | undefined) {
    this.server = createServer(handler);
    this.listenOn = listen ?? {};
  }

  /** The bound port (after start). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<this> {
    this.boundPort = await listenHttp(this.server, this.listenOn.port ?? 0, this.listenOn.host ?? "127.0.0.1");
    return this;
  }

  /** Lets requests in flight finish within `graceMs` (default 1000), then closes every connection. */
  close(options: { graceMs?: number } = {}): Promise<void> {
    return (this.closing ??= closeHttp(this.server, options.graceMs ?? 1000));
  }
}
