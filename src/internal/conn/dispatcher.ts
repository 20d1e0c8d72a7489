import type { StreamCounters } from "./stream-counters.js";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { MessageCodec } from "../../codec/types.js";
import type { GomsError } from "../../errors/goms-error.js";
import type { Admission } from "../admission/admission.js";
import type { Hello } from "../../gen/goms/v1/node_pb.js";
import type { AcceptInfo } from "../transport/types.js";
import type { ServerCall } from "./server-call.js";
import type { StreamKind } from "./stream-driver.js";

/** A hosted method, ready to serve. */
export interface ServerMethod {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly input: MessageCodec;
  readonly output: MessageCodec;
  /** proto3 JSON of the input and output, for requests sent with the JSON payload codec. */
  readonly json: { fromJson(text: string): unknown; toJson(res: unknown): string };
  /** Undefined for a unary method, else its streaming kind (the handler then runs through driveStream). */
  readonly stream: StreamKind | undefined;
  /** The handler wrapped in server interceptors. Returns the response or a promise of it. */
  readonly invoke: (req: unknown, call: ServerCall) => unknown;
}

/** What a server connection needs from its node. */
export interface Dispatcher {
  readonly maxConcurrentCalls: number;
  /** Node-wide admission (concurrency limit, deadline-aware refusal), shared by every scope; undefined = admit all. */
  readonly admission: Admission | undefined;
  lookup(path: string): ServerMethod | undefined;
  /** The error for a path that lookup() did not find (not_found or unimplemented). */
  missing(path: string): GomsError;
  /** The HELLO this node answers with. */
  hello(): Hello;
  /** Checks a client's HELLO (token, identity). Returns an error to refuse it. */
  admit(hello: Hello, info: AcceptInfo): GomsError | undefined;
  /** Called when a call finishes (for diagnostics); err undefined on success. */
  finished(call: ServerCall, err: GomsError | undefined, startedAt: number): void;
  /** True while the node accepts new calls. */
  readonly accepting: boolean;
  /** Unary calls the node has finished serving so far (a counter): streams keep short turns while it moves (StreamOutbox). */
  readonly unaryCalls: number;
  /** The node's stream counters (node.stats().streams), for its served streams. */
  readonly streamCounters: StreamCounters;
}
