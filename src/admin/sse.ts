import type { ServerResponse } from "node:http";

/** A set of Server-Sent-Events streams with a shared heartbeat. */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;

  get size(): number {
    return this.clients.size;
  }

  /** Starts an SSE response; it leaves the hub when the client goes away. */
  add(res: ServerResponse, onClose?: () => void): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      connection: "keep-alive",
    });
    res.write("retry: 2000\n\n");
    this.clients.add(res);
    res.on("close", () => {
      this.clients.delete(res);
      onClose?.();
      if (this.clients.size === 0) this.stopHeartbeat();
    });
    this.timer ??= setInterval(() => {
      for (const c of this.clients) c.write(": ping\n\n");
    }, 15_000);
  }

  send(event: string, data: unknown, to?: ServerResponse): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    if (to) to.write(frame);
    else for (const c of this.clients) c.write(frame);
  }

  close(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.stopHeartbeat();
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
