import WebSocket from "ws";

export interface WsOutcome {
  /** The HTTP status of a refused upgrade, or 101. */
  status: number;
  /** The body of a refused upgrade. */
  body: string;
  /** The Sec-WebSocket-Protocol the gateway answered with. */
  protocol: string | undefined;
  /** Every message received, parsed as JSON. */
  messages: unknown[];
  /** The close code and its reason (the JSON status), once open. */
  code: number;
  reason: string;
}

export interface WsExchange {
  protocols?: string[];
  headers?: Record<string, string>;
  /** Sent once open: text as is, a Buffer as a binary message. */
  send?: (string | Buffer)[];
  /** Sends the empty message (the half-close) after `send`. Default true. */
  halfClose?: boolean;
}

/** One WebSocket stream to `url`, driven to its close (or its refused upgrade). */
export function wsExchange(url: string, o: WsExchange = {}): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, o.protocols ?? [], { headers: o.headers ?? {} });
    const out: WsOutcome = { status: 101, body: "", protocol: undefined, messages: [], code: 0, reason: "" };
    ws.on("upgrade", (res) => (out.protocol = res.headers["sec-websocket-protocol"]));
    ws.on("open", () => {
      for (const m of o.send ?? []) ws.send(m, { binary: typeof m !== "string" });
      if (o.halfClose !== false) ws.send("");
    });
    ws.on("message", (d) => out.messages.push(JSON.parse(String(d))));
    ws.on("close", (code, reason) => resolve({ ...out, code, reason: reason.toString() }));
    ws.on("unexpected-response", (_req, res) => {
      out.status = res.statusCode ?? 0;
      res.on("data", (c: Buffer) => (out.body += c.toString()));
      res.on("end", () => resolve(out));
    });
    ws.on("error", () => undefined);
  });
}
