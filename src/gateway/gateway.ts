import { createServer, ServerResponse, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Code, GomsError, gomsError } from "../errors/index.js";
import type { Message } from "@bufbuild/protobuf";
import type { CallResult, GomsNode, Metadata } from "../rpc/index.js";
import { Auth } from "./auth.js";
import { CallBatch } from "./call-batch.js";
import { readBodyThen } from "../internal/http/body.js";
import { clientIp, IpSet } from "../internal/http/client-ip.js";
import { sendError, sendJsonText } from "../internal/http/json.js";
import { httpServerOptions, listenHttp } from "../internal/http/server.js";
import { Cors } from "./cors.js";
import { METADATA_KEY, requestMetadata, socketSignal } from "./request.js";
import { serveBuiltin } from "./builtin.js";
import { resolveOptions, type BucketOptions, type GatewayOptions, type ResolvedOptions, type TokenSource } from "./options.js";
import { RateLimited, RateLimiter, RetryLater } from "./rate-limit.js";
import { Shedder } from "./shed.js";
import { createJsonCaller, parseMethodName, type JsonCaller, type Route } from "../json-call/index.js";
import { GatewayTracing } from "./tracing.js";
import { serveServerStream, type StreamDeps } from "./server-stream.js";
import { offeredTimeout, serveWebSocket, type Upgrade } from "./ws-stream.js";

export interface Gateway {
  /** node:http request listener: mount it in your own server (or fastify: rq.raw, rp.raw). */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** node:http "upgrade" listener (WebSocket streams): add it to your own server when you mount `handler`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Starts an HTTP server with the gateway's timeouts on `listen` (default 127.0.0.1, a free port). */
  start(): Promise<Gateway>;
  /** The bound port once started, else 0. */
  readonly port: number;
  /** The server started by start(), if any. */
  readonly server: Server | undefined;
  /** Requests being handled right now. */
  readonly inflight: number;
  /**
   * Graceful drain: stop accepting, answer new requests on open connections with
   * 503, wait for in-flight requests (up to shutdownGraceMs), then close every
   * connection. `graceMs` overrides shutdownGraceMs. Does not close the node.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const RPC_ALLOW = "POST, OPTIONS";
const TIMEOUT_HEADER = "x-goms-timeout-ms";
/** What `curl -d` sends by default; the body is still parsed as JSON (see acceptCurlForm). */
const FORM_TYPE = "application/x-www-form-urlencoded";
const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json$/i;

class GatewayImpl {
  private readonly node: GomsNode;
  private readonly o: ResolvedOptions;
  private readonly json: JsonCaller;
  private readonly tracing = new GatewayTracing();
  private readonly auth: Auth;
  private readonly cors: Cors;
  private readonly trusted: IpSet;
  private readonly ipLimit: TokenSource | undefined;
  private readonly routeLimit: TokenSource | undefined;
  private readonly shed: Shedder;
  private readonly rpcPrefix: string;
  server: Server | undefined;
  inflight = 0;
  private draining = false;
  private closing: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  /** RPCs in flight (for send batching). */
  private calls = 0;
  private readonly batch = new CallBatch();
  /** Requests that asked for a WebSocket, with their socket, until they end. */
  private readonly upgrades = new WeakMap<IncomingMessage, Upgrade>();
  private readonly streamDeps: StreamDeps;

  private readonly listenOn: { port?: number | undefined; host?: string | undefined };

  constructor(opts: GatewayOptions) {
    this.node = opts.node;
    this.listenOn = opts.listen ?? {};
    this.o = resolveOptions(opts);
    this.json = createJsonCaller(opts.node, { descriptorTimeoutMs: this.o.descriptorTimeoutMs });
    this.auth = new Auth(opts.auth);
    this.cors = new Cors(opts.cors, this.o.forwardHeaders);
    this.trusted = new IpSet(opts.trustedProxies ?? []);
    const rl = opts.rateLimit;
    const buckets = rl?.tokens ?? ((_: string, o: BucketOptions) => new RateLimiter(o, rl?.maxKeys));
    this.ipLimit = rl?.perIp ? buckets("perIp", rl.perIp) : undefined;
    this.routeLimit = rl?.perRoute ? buckets("perRoute", rl.perRoute) : undefined;
    this.shed = new Shedder(opts.shed);
    this.rpcPrefix = `${this.o.prefix}/`;
    for (const h of this.o.forwardHeaders) {
      if (!METADATA_KEY.test(h)) throw new GomsError(`forwardHeaders: ${h} is not a valid metadata key`, Code.InvalidArgument, { reason: "GOMS_ERR_INVALID_OPTION" });
    }
    this.handler = this.handler.bind(this);
    this.upgrade = this.upgrade.bind(this);
    this.streamDeps = {
      node: this.node,
      json: this.json,
      tracing: this.tracing,
      limits: this.o.streams,
      maxMessageBytes: this.o.maxBodyBytes,
      fail: (res, e, route) => this.fail(res, this.shed.answerFor(e, route)),
    };
  }

  /** A response's "close" (emitted once per response): the request is no longer in flight. */
  private readonly requestClosed = (): void => {
    if (--this.inflight === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
  };

  handler(req: IncomingMessage, res: ServerResponse): void {
    this.inflight++;
    res.on("close", this.requestClosed);
    try {
      if (this.draining) {
        res.setHeader("connection", "close");
        sendError(res, new GomsError("the gateway is shutting down", Code.Unavailable, { reason: "GOMS_ERR_GATEWAY_DRAINING" }));
        return;
      }
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      if (path.startsWith(this.rpcPrefix)) {
        this.rpc(req, res, path.slice(this.rpcPrefix.length), q < 0 ? "" : url.slice(q + 1));
        return;
      }
      this.builtin(req, res, path);
    } catch (e) {
      this.fail(res, e);
    }
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (e instanceof RetryLater) {
      sendError(res, e, undefined, { "retry-after": String(e.retryAfterSec) });
      return;
    }
    sendError(res, e);
  }

  // ---- built-in endpoints (builtin.ts) ----------------------------------------

  private builtin(req: IncomingMessage, res: ServerResponse, path: string): void {
    serveBuiltin({ node: this.node, json: this.json, o: this.o, draining: this.draining, fail: (e) => this.fail(res, e) }, req, res, path);
  }

  // ---- RPC routes -----------------------------------------------------------

  private rpc(req: IncomingMessage, res: ServerResponse, rest: string, query: string): void {
    const method = req.method;
    if (method === "OPTIONS") {
      if (req.headers.origin !== undefined) {
        if (!this.cors.preflight(req, res)) sendError(res, new GomsError("CORS: origin or request not allowed", Code.PermissionDenied, { reason: "GOMS_ERR_CORS_DENIED" }));
        return;
      }
      res.statusCode = 204;
      res.setHeader("allow", RPC_ALLOW);
      res.end();
      return;
    }
    if (this.cors.check(req, res) === "denied") throw new GomsError("CORS: origin not allowed", Code.PermissionDenied, { reason: "GOMS_ERR_CORS_DENIED" });
    if (method !== "POST" && !(method === "GET" && this.upgrades.has(req))) {
      sendError(res, new GomsError(`${method ?? ""} is not allowed; use POST`, Code.InvalidArgument, { reason: "GOMS_ERR_METHOD_NOT_ALLOWED" }), 405, { allow: RPC_ALLOW });
      return;
    }
    const parts = rest.includes("/") ? parseMethodName(rest) : undefined;
    if (parts === undefined) throw new GomsError(`no route for ${this.rpcPrefix}${rest}; use ${this.rpcPrefix}{Service}/{Method}`, Code.NotFound, { reason: "GOMS_ERR_NO_ROUTE" });
    const ctype = req.headers["content-type"];
    if (ctype !== undefined) {
      const semi = ctype.indexOf(";");
      const media = (semi < 0 ? ctype : ctype.slice(0, semi)).trim();
      if (!JSON_TYPE.test(media) && !(this.o.acceptCurlForm && media.toLowerCase() === FORM_TYPE)) {
        sendError(res, new GomsError(`content type ${media} is not supported; send application/json`, Code.InvalidArgument, { reason: "GOMS_ERR_UNSUPPORTED_MEDIA_TYPE" }), 415);
        return;
      }
    }
    const len = req.headers["content-length"];
    if (len !== undefined && Number(len) > this.o.maxBodyBytes) {
      throw gomsError("GOMS_ERR_BODY_TOO_LARGE", { limit: this.o.maxBodyBytes });
    }
    const timeoutMs = this.timeout(req.headers[TIMEOUT_HEADER] ?? offeredTimeout(req.headers));
    const ip = clientIp(req.socket.remoteAddress, req.headers["x-forwarded-for"], this.trusted);
    if (this.ipLimit === undefined) this.routed(req, res, rest, parts, query, timeoutMs, ip);
    else this.limit(this.ipLimit, ip, "client", res, () => this.routed(req, res, rest, parts, query, timeoutMs, ip));
  }

  private routed(req: IncomingMessage, res: ServerResponse, rest: string, parts: { service: string; method: string }, query: string, timeoutMs: number, ip: string): void {
    const r = this.json.route(parts.service, parts.method);
    if (!(r instanceof Promise) && !this.auth.enabled) {
      this.admitted(req, res, r, undefined, query, timeoutMs, ip);
      return;
    }
    this.authorize(req, rest, parts, r)
      .then((a) => this.admitted(req, res, a.route, a.sub, query, timeoutMs, ip))
      .catch((e: unknown) => this.fail(res, e));
  }

  /** The route once the descriptors are known, and the authenticated subject (auth only). */
  private async authorize(req: IncomingMessage, rest: string, parts: { service: string; method: string }, r: Route | Promise<Route>): Promise<{ route: Route; sub: string | undefined }> {
    let route: Route;
    if (r instanceof Promise) {
      try {
        route = await r;
      } catch (e) {
        // Unknown route: still ask for credentials first, so that probing does not reveal what exists.
        const up = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
        await this.auth.authenticate([`${this.rpcPrefix}${up(parts.service)}/${up(parts.method)}`, `${this.rpcPrefix}${rest}`], req.headers);
        throw e;
      }
    } else route = r;
    let sub: string | undefined;
    if (this.auth.enabled) {
      const svc = route.entry.service;
      const p = this.auth.authenticate([`${this.rpcPrefix}${svc.typeName}/${route.method.name}`, `${this.rpcPrefix}${svc.name}/${route.method.name}`], req.headers);
      if (p !== undefined) sub = (await p)?.sub ?? "";
    }
    return { route, sub };
  }

  /**
   * A request allowed to its route: reads the body and makes the call. The hot
   * path is callbacks, not async/await: every promise costs, and more so
   * while AsyncLocalStorage is on in the process.
   */
  private admitted(req: IncomingMessage, res: ServerResponse, route: Route, sub: string | undefined, query: string, timeoutMs: number, ip: string): void {
    if (this.shed.limited) this.shed.admit(route, res);
    if (this.routeLimit !== undefined) this.limit(this.routeLimit, route.path, "route", res, () => this.read(req, res, route, sub, query, timeoutMs, ip));
    else this.read(req, res, route, sub, query, timeoutMs, ip);
  }

  private read(req: IncomingMessage, res: ServerResponse, route: Route, sub: string | undefined, query: string, timeoutMs: number, ip: string): void {
    if (this.upgrades.has(req)) {
      // A WebSocket's messages come after the upgrade: no body to read.
      this.call(req, res, route, requestMetadata(req, this.o.forwardHeaders, query, ip, this.node.name, sub), timeoutMs, "");
      return;
    }
    readBodyThen(req, this.o.maxBodyBytes, this.o.bodyTimeoutMs, (err, body) => {
      if (err !== undefined) this.fail(res, err);
      else {
        try {
          this.call(req, res, route, requestMetadata(req, this.o.forwardHeaders, query, ip, this.node.name, sub), timeoutMs, body);
        } catch (e) {
          this.fail(res, e);
        }
      }
    });
  }

  private call(req: IncomingMessage, res: ServerResponse, route: Route, md: Metadata, timeoutMs: number, body: string): void {
    const message = this.json.request(route, body);
    if (route.method.methodKind !== "unary" || this.upgrades.has(req)) {
      this.stream(req, res, route, md, timeoutMs, message);
      return;
    }
    const signal = socketSignal(req.socket);
    const span = this.tracing.start(req, route, md);
    const opts = { timeoutMs, metadata: md, signal };
    const failed = (e: unknown): void => {
      span.end(0, e);
      if (!signal.aborted) this.fail(res, this.shed.answerFor(e, route)); // else the client is gone: nobody to answer
    };
    const answer = (out: CallResult<unknown>): void => {
      this.calls--;
      try {
        const text = this.json.response(route, out.message as Message);
        span.end(200, undefined);
        sendJsonText(res, 200, text, { "x-goms-ret": String(out.ret) });
      } catch (e) {
        failed(e);
      }
    };
    const rejected = (e: unknown): void => {
      this.calls--;
      failed(e);
    };
    const send = (): void => {
      let p: Promise<CallResult<unknown>>;
      try {
        p = span.run(() => this.node.invoke(route.method, message, opts));
      } catch (e) {
        rejected(e);
        return;
      }
      p.then(answer, rejected);
    };
    if (++this.calls > 1) this.batch.submit(send);
    else send();
  }

  /** Streams: a server stream over SSE or NDJSON (server-stream.ts), client and bidi streams over a WebSocket (ws-stream.ts). */
  private stream(req: IncomingMessage, res: ServerResponse, route: Route, md: Metadata, timeoutMs: number, message: Message): void {
    const up = this.upgrades.get(req);
    if (up !== undefined) serveWebSocket(this.streamDeps, req, up, route, md, timeoutMs);
    else if (route.method.methodKind === "server_streaming") serveServerStream(this.streamDeps, req, res, route, md, timeoutMs, message);
    else throw gomsError("GOMS_ERR_STREAM_NEEDS_WEBSOCKET", { route: route.path });
  }

  /**
   * A WebSocket upgrade on an RPC route takes the same path as a POST (CORS,
   * rate limits, auth, shedding, deadline) with a ServerResponse on the raw
   * socket, so that a refusal is the usual JSON error; once admitted, the
   * socket goes to `ws` (ws-stream.ts) and the response's "close" (the
   * socket's) still marks the end of the request.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    // A refusal (the JSON error) ends the request: nothing else comes on this socket.
    res.once("finish", () => socket.end());
    this.upgrades.set(req, { socket, head });
    this.handler(req, res);
  }

  private timeout(h: string | string[] | undefined): number {
    if (h === undefined) return Math.min(this.o.defaultTimeoutMs, this.o.maxTimeoutMs);
    const v = Array.isArray(h) ? h[0] : h;
    const n = Number(v);
    if (v === undefined || v.trim() === "" || !Number.isInteger(n) || n <= 0) {
      throw new GomsError(`${TIMEOUT_HEADER} must be a positive integer (ms)`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_HEADER" });
    }
    return Math.min(n, this.o.maxTimeoutMs);
  }

  /** Runs `next` once `l` gives a token for `key`: at once from local buckets, after an answer from shared ones (TokenSource). */
  private limit(l: TokenSource, key: string, what: string, res: ServerResponse, next: () => void): void {
    const wait = l.take(key);
    if (wait === 0) return next();
    if (typeof wait === "number") throw new RateLimited(what, wait);
    wait
      .then((w) => {
        if (w !== 0) throw new RateLimited(what, w);
        next();
      })
      .catch((e: unknown) => this.fail(res, e));
  }

  // ---- lifecycle ------------------------------------------------------------

  start(): Promise<number> {
    if (this.server !== undefined) return Promise.reject(new GomsError("the gateway was already started", Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" }));
    const { port = 0, host = "127.0.0.1" } = this.listenOn;
    const server = createServer(httpServerOptions(this.o), this.handler);
    server.on("upgrade", this.upgrade);
    this.server = server;
    return listenHttp(server, port, host);
  }

  close(graceMs = this.o.shutdownGraceMs): Promise<void> {
    return (this.closing ??= this.doClose(graceMs));
  }

  private async doClose(graceMs: number): Promise<void> {
    this.draining = true;
    const server = this.server;
    const closed = server === undefined ? Promise.resolve() : new Promise<void>((r) => server.close(() => r()));
    server?.closeIdleConnections();
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    server?.closeAllConnections();
    await closed;
  }
}

/** Creates an HTTP/JSON gateway in front of `node`. */
export function createGateway(options: GatewayOptions): Gateway {
  const g = new GatewayImpl(options);
  let port = 0;
  const gateway: Gateway = {
    handler: g.handler,
    upgrade: g.upgrade,
    start: async () => {
      port = await g.start();
      return gateway;
    },
    get port() {
      return port;
    },
    get server() {
      return g.server;
    },
    get inflight() {
      return g.inflight;
    },
    close: (o) => g.close(o?.graceMs),
  };
  return gateway;
}

export { RateLimited };
