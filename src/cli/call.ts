import { Readable } from "node:stream";
import type { Message } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { Code, codeToString, GomsError } from "../errors/index.js";
import { createJsonCaller, type JsonCaller, type Route } from "../json-call/index.js";
import type { CallOptions, GomsNode, Metadata } from "../rpc/index.js";
import { ndjsonLines } from "../web/ndjson.js";
import { resumeStream } from "../web/resume.js";
import { connect, connectRegistry } from "./target.js";

export interface CallCommandOptions {
  json: boolean;
  /** Deadline in ms; undefined: 10 s for a unary call, none for a stream (it ends when the server or Ctrl-C ends it). */
  timeoutMs: number | undefined;
  metadata: Record<string, string>;
  /** Cancels the call or stream (Ctrl-C). */
  signal?: AbortSignal;
  /** Where a client or bidi stream's requests come from when no input is given (goms call: stdin). */
  stdinLines?: () => AsyncIterable<string>;
  /** Each response of a stream as it arrives (default: collected into the output's text, one per line). */
  onMessage?: (text: string) => void;
  /** A server stream that fails unavailable or deadline_exceeded is opened again (resumeStream), with backoff, until canceled. */
  follow?: boolean;
  /** A line for the user that is not output (with `follow`: each reopening). */
  onNotice?: (line: string) => void;
}

export interface CallOutput {
  /** The response; for a stream without onMessage, its responses one per line. */
  text: string;
  ret: number;
  /** A stream's trailing metadata (what its end carried); undefined for a unary call. */
  trailer: Metadata | undefined;
}

/** Which node serves the call: the descriptors come from it (pinned) or from the registry. */
export interface CallTarget {
  node: GomsNode;
  /** Pin the call to this node (--addr); undefined: load-balance (--registry). */
  pinned: string | undefined;
}

const UNARY_TIMEOUT_MS = 10_000;
/** Longest request line read from stdin: far above any message a node accepts, yet bounded. */
const MAX_LINE = 16 * 1024 * 1024;

/**
 * A server stream opened again after each unavailable or deadline_exceeded
 * failure (resumeStream: backoff with jitter, reset by a message), each time
 * with the same request: a stream that starts with the current state (DB.Watch)
 * carries on. The ret and trailer are the last attempt's.
 */
async function follow(t: CallTarget, route: Route, request: unknown, opts: CallOptions, o: CallCommandOptions, emit: (m: Message) => void, collected: string[]): Promise<CallOutput> {
  let end: { ret: number; metadata: Metadata } | undefined;
  const open = (req: unknown, co?: { signal?: AbortSignal | undefined }): AsyncIterable<Message> =>
    (async function* () {
      const r = await t.node.invoke(route.method, req, { ...opts, ...(co?.signal === undefined ? {} : { signal: co.signal }) });
      end = r;
      yield* r.message as AsyncIterable<Message>;
    })();
  const messages = resumeStream(open, () => request, {
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    onRetry: ({ error, delayMs }) => o.onNotice?.(`goms call: the stream ended (${codeToString(error.code)}: ${error.rawMessage}); opening it again in ${delayMs} ms`),
  });
  for await (const m of messages) emit(m);
  return { text: collected.join("\n"), ret: end?.ret ?? 0, trailer: { ...end?.metadata } };
}

/**
 * `goms call`: a method by name with JSON, without compiled stubs, through
 * the shared JSON-call module (the same lookup and transcoding as the gateway
 * and the admin console). Streams work too: a server stream's responses go to
 * `onMessage` as they arrive; a client or bidi stream sends `requests` one by
 * one, pulled only as the stream's window allows.
 */
export async function callJson(t: CallTarget, name: string, input: string | AsyncIterable<string> | undefined, o: CallCommandOptions): Promise<CallOutput> {
  const caller = createJsonCaller(t.node, { descriptorTimeoutMs: o.timeoutMs || UNARY_TIMEOUT_MS });
  const route = await caller.routeByName(name);
  const kind = route.method.methodKind;
  const opts: CallOptions = {
    timeoutMs: o.timeoutMs ?? (kind === "unary" ? UNARY_TIMEOUT_MS : 0),
    metadata: o.metadata,
    ...(t.pinned === undefined ? {} : { node: t.pinned }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  };
  const pretty = o.json ? 0 : 2;
  const single = async (): Promise<string> => (input === undefined ? "{}" : typeof input === "string" ? input.trim() : await joinLines(input));
  if (kind === "unary") {
    const res = await caller.call(route, await single(), opts, pretty);
    return { text: res.json, ret: res.ret, trailer: undefined };
  }
  const collected: string[] = [];
  const emit = o.onMessage ?? ((text: string) => void collected.push(text));
  if (o.follow === true) {
    if (kind !== "server_streaming") throw new GomsError(`--follow is for server streams; ${route.method.name} is ${kind.replace("_", " ")}`, Code.InvalidArgument);
    return follow(t, route, caller.request(route, await single()), opts, o, (m) => emit(caller.response(route, m, pretty)), collected);
  }
  let request: unknown;
  if (kind === "server_streaming") request = caller.request(route, await single());
  else {
    const lines = input === undefined ? (o.stdinLines?.() ?? splitLines("")) : typeof input === "string" ? splitLines(input) : input;
    request = requestMessages(caller, route, lines);
  }
  const open = await t.node.invoke(route.method, request, opts);
  // Every stream's responses come as an AsyncIterable (a client stream's holds its one response).
  for await (const m of open.message as AsyncIterable<Message>) emit(caller.response(route, m, pretty));
  // The end's ret and trailer were set before the responses said done.
  return { text: collected.join("\n"), ret: open.ret, trailer: { ...open.metadata } };
}

/**
 * What `goms call` prints after a call's response(s), or undefined for
 * nothing. With --json, a stream always ends with one more NDJSON line,
 * `{"ret":N,"trailer":{...}}`, so a script finds its end in the last line;
 * otherwise one readable line on stderr (stdout keeps only messages), when
 * the ret or trailer say anything. A unary call tells only a non-zero ret.
 */
export function endLine(out: CallOutput, json: boolean): { stream: "stdout" | "stderr"; line: string } | undefined {
  const { ret, trailer } = out;
  if (json && trailer !== undefined) return { stream: "stdout", line: JSON.stringify({ ret, trailer }) };
  const parts: string[] = [];
  if (ret !== 0) parts.push(`ret: ${ret}`);
  if (trailer !== undefined && Object.keys(trailer).length > 0) parts.push(`trailer: ${JSON.stringify(trailer)}`);
  return parts.length === 0 ? undefined : { stream: "stderr", line: parts.join(", ") };
}

/** NDJSON request lines -> messages; a bad line ends the stream with invalid_argument, naming the line. */
async function* requestMessages(caller: JsonCaller, route: Route, lines: AsyncIterable<string>): AsyncGenerator<Message> {
  let n = 0;
  for await (const line of lines) {
    n++;
    let message: Message;
    try {
      message = caller.request(route, line);
    } catch (e) {
      const err = GomsError.from(e);
      throw new GomsError(`request line ${n}: ${err.rawMessage}`, err.code, { ...(err.reason === undefined ? {} : { reason: err.reason }), cause: e });
    }
    yield message;
  }
}

async function* splitLines(text: string): AsyncGenerator<string> {
  for (const line of text.split("\n")) if (line.trim() !== "") yield line.trim();
}

/** One request read as lines (stdin): JSON strings hold no raw newline, so the lines join back into the same JSON. */
async function joinLines(lines: AsyncIterable<string>): Promise<string> {
  const parts: string[] = [];
  let size = 0;
  for await (const l of lines) {
    size += l.length + 1;
    if (size > MAX_LINE) throw new GomsError(`the request is longer than ${MAX_LINE} characters`, Code.ResourceExhausted);
    parts.push(l);
  }
  return parts.join("\n");
}

/** stdin as NDJSON lines, read as the stream takes them. */
function stdinLines(): AsyncIterable<string> {
  return ndjsonLines(Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>, MAX_LINE);
}

interface CallFlags {
  addr?: string;
  registry?: string;
  json: boolean;
  timeout?: number;
  metadata: Record<string, string>;
  token?: string;
  follow: boolean;
}

/** Registers `goms call`. */
export function registerCallCommand(
  program: Command,
  intOption: (v: string) => number,
  collectMetadata: (v: string, prev: Record<string, string>) => Record<string, string>,
  fail: (err: unknown) => never,
): void {
  program
    .command("call")
    .description(
      "call a method with JSON, using the descriptors nodes publish (no stubs needed); a server stream prints each response as it arrives, " +
        "a client or bidi stream reads its requests as NDJSON (one JSON per line) from stdin; a stream's ret and trailer come last " +
        '(with --json a last line {"ret":N,"trailer":{...}}, else a line on stderr when set); Ctrl-C cancels',
    )
    .argument("<method>", "Service.Method, e.g. AddServer.Add or goms.examples.v1.AddServer.Add")
    .argument("[json]", "request as proto3 JSON (default {}; '-' reads stdin); for a client or bidi stream, NDJSON requests (default: stdin)")
    .option("--addr <host:port>", "call this node")
    .option("--registry <url>", "find the service through a registry: watch://host:port, etcd://host:port, (or GOMS_REGISTRY)")
    .option("--json", "print exact JSON on one line per message (default: pretty)", false)
    .option("--timeout <ms>", "deadline in milliseconds (default 10000 for unary calls, none for streams)", intOption)
    .option("-H, --metadata <key=value>", "request metadata (repeatable)", collectMetadata, {})
    .option("--token <token>", "token expected by the node (or GOMS_TOKEN)")
    .option("--follow", "server streams: when the stream fails unavailable or deadline_exceeded (its node went away), open it again, with backoff, until Ctrl-C", false)
    .action(async (method: string, json: string | undefined, o: CallFlags) => {
      const token = o.token ?? process.env["GOMS_TOKEN"];
      const registryUrl = o.registry ?? (o.addr === undefined ? process.env["GOMS_REGISTRY"] : undefined);
      if (o.addr === undefined && registryUrl === undefined) fail(new Error("give --addr host:port or --registry url"));
      let close: () => Promise<void>;
      let target: CallTarget;
      if (o.addr !== undefined) {
        const c = await connect({ addr: o.addr, ...(token !== undefined ? { token } : {}) }).catch(fail);
        close = () => c.node.close({ graceMs: 0 });
        target = { node: c.node, pinned: c.target };
      } else {
        const c = await connectRegistry(registryUrl!, token).catch(fail);
        close = c.close;
        target = { node: c.node, pinned: undefined };
      }
      // Ctrl-C cancels the call: the server sees CANCEL (a stream handler's ctx.signal aborts, its finally runs).
      const ac = new AbortController();
      const onSigint = (): void => ac.abort(new GomsError("canceled (SIGINT)", Code.Canceled));
      process.once("SIGINT", onSigint);
      // stdout closed by its reader (`goms call ... | head -3`): cancel the stream rather than die on EPIPE.
      process.stdout.once("error", () => ac.abort(new GomsError("stdout was closed", Code.Canceled)));
      try {
        const out = await callJson(target, method, json === "-" ? stdinLines() : json, {
          json: o.json,
          timeoutMs: o.timeout,
          metadata: o.metadata,
          signal: ac.signal,
          stdinLines,
          onMessage: (text) => process.stdout.write(text + "\n"),
          follow: o.follow,
          onNotice: (line) => process.stderr.write(line + "\n"),
        });
        if (out.text !== "") process.stdout.write(out.text + "\n");
        const end = endLine(out, o.json);
        if (end !== undefined) (end.stream === "stdout" ? process.stdout : process.stderr).write(end.line + "\n");
      } catch (err) {
        await close();
        if (ac.signal.aborted) process.exit(130);
        fail(err);
      } finally {
        process.removeListener("SIGINT", onSigint);
      }
      await close();
      // A stream that ended while stdin was still open: nothing more will be read from it.
      process.stdin.destroy();
    });
}
