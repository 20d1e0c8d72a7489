// The admin JSON API's response types, shared by the server (src/admin) and the
// web console (admin-ui). Types only: nothing here may import runtime code.
import type { SeriesPoint } from "../monitor/store-types.js";

export type { SeriesPoint };

/** One node as the console API shows it: monitor data and registry data joined by name. */
export interface NodeSummary {
  name: string;
  id: number;
  type: string;
  region: number;
  set: string;
  address: string;
  services: string[];
  /** Known through the registry right now. */
  registered: boolean;
  /** Pushing stats to the monitor. */
  monitored: boolean;
  stale: boolean;
  receivedAt: number;
  uptimeMs: number;
  latest: SeriesPoint | undefined;
  callsInFlight: number;
  serverConnections: number;
  /**
   * The program the node is a copy of: its identity's `type` when set, else
   * its name without the instance number (`db0`, `db1` -> `db`; `gate0-1` ->
   * `gate0`). `goms run --instances N` copies share it.
   */
  program: string;
  /** Admission of served calls at the last push (undefined: not monitored, or a node that does not report it). */
  admission: AdmissionSummary | undefined;
  /** Peers this node has ejected from its routing, at the last push. */
  outliers: OutlierSummary | undefined;
  /** Hedged requests of the calls this node makes, at the last push. */
  hedges: HedgeSummary | undefined;
  /** Streams this node served and made, at the last push (node.stats().streams). */
  streams: StreamSummary | undefined;
}

/** node.stats().admission as the console shows it (counters since the node started). */
export interface AdmissionSummary {
  limit: number;
  inflight: number;
  admitted: number;
  refusedLimit: number;
  refusedDeadline: number;
  /** Mean time admitted calls waited before their handler ran, since start, ms. */
  meanQueueMs: number;
}

export interface OutlierSummary {
  ejectedNow: number;
  ejections: number;
  /** The ejected peers (at most 64 per push). */
  ejected: { node: string; state: string; reason: string }[];
}

/** node.stats().hedges as the console shows it (counters since the node started). */
export interface HedgeSummary {
  /** Second copies sent. */
  sent: number;
  /** Calls the second copy answered first. */
  won: number;
  /** Hedges due but refused by the retry budget. */
  refused: number;
  /** Of `sent`: sent outside the budget because the first copy's node was ejected as hung. */
  rescued: number;
}

/** node.stats().streams as the console shows it (counters since the node started). */
export interface StreamSummary {
  opened: number;
  sent: number;
  received: number;
  /** Messages whose send waited for the receiver: consumers slower than producers. */
  windowWaits: number;
}

/** One field of a request message, enough to build a form input. */
export interface FieldSchema {
  /** proto3 JSON name. */
  name: string;
  /** "string", "int32", "bool", "enum", "message", ... */
  type: string;
  repeated: boolean;
  map: boolean;
  /** Enum value names. */
  values?: string[];
  /** Message type name for message fields. */
  message?: string;
}

export interface MethodSchema {
  name: string;
  input: string;
  output: string;
  fields: FieldSchema[];
  /** A request with every field at its default, as JSON (the editor's starting point). */
  template: unknown;
}

export interface ServiceSchema {
  name: string;
  methods: MethodSchema[];
  /** Node names hosting the service. */
  nodes: string[];
}

/** One supervisord program as reported by getAllProcessInfo. */
export interface ProcessInfo {
  /** Supervisor host label. */
  host: string;
  /** Program name (matched against goms node names). */
  name: string;
  group: string;
  /** "group:name", what supervisord's control calls take. */
  fullName: string;
  /** RUNNING, STOPPED, STARTING, STOPPING, BACKOFF, EXITED, FATAL, UNKNOWN. */
  state: string;
  pid: number;
  /** Seconds since start while running, else 0. */
  uptimeSec: number;
  /** Unix ms the program started (0 when not running). */
  startedAtMs: number;
  description: string;
}

/** A process row plus the admin's own transitional state (e.g. DRAINING), if any. */
export interface ProcessRow extends ProcessInfo {
  /** Set while an action started from the console is under way. */
  pending?: string;
}

export interface HostStatus {
  host: string;
  url: string;
  ok: boolean;
  error?: string;
}

/** GET /api/processes: every supervisord's programs, each joined with its goms node (if any) by name. */
export interface ProcessesView {
  hosts: HostStatus[];
  processes: (ProcessRow & { node: NodeSummary | null })[];
}
