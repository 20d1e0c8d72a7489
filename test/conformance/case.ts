import assert from "node:assert/strict";
import { T, describe, parseGoAway, type Frame, type GoAway, type HelloFields } from "./frames.js";
import { RawConn, WAIT_MS, handshake, type Session, type Target } from "./raw-conn.js";


/** What a case gets: the node under test, and connections that are closed when the case ends. */
export interface CaseContext {
  readonly target: Target;
  /** The node's `limits.maxPendingHandshakes` (§4.13); default 64. */
  readonly maxPendingHandshakes: number;
  open(): Promise<RawConn>;
  handshake(fields?: HelloFields, extra?: Buffer[]): Promise<Session>;
}

/**
 * One conformance case. `rule` is the docs/protocol.md rule it checks.
 * - `needs: "token"`: only when the node requires a token (--token given).
 * - `kind: "slow"`: waits for the node's timers (seconds); started first, all at once.
 * - `kind: "exclusive"`: disturbs other connections; runs alone, after the rest.
 */
export interface Case {
  rule: string;
  name: string;
  needs?: "token";
  kind?: "slow" | "exclusive";
  run(ctx: CaseContext): Promise<void>;
}

/**
 * Thrown by a case that cannot apply to the node under test (e.g. it hosts no
 * streaming method): the case is reported as skipped with `message` as the
 * reason, never as passed.
 */
export class CaseSkipped extends Error {}

export function skipCase(reason: string): never {
  throw new CaseSkipped(reason);
}

export function title(c: Case): string {
  return `${c.rule} ${c.name}`;
}

/** Runs `c` with its own tracked connections, all destroyed afterwards. */
export async function runCase(c: Case, target: Target, maxPendingHandshakes: number): Promise<void> {
  const conns: RawConn[] = [];
  const ctx: CaseContext = {
    target,
    maxPendingHandshakes,
    async open() {
      const c = await RawConn.open(target);
      conns.push(c);
      return c;
    },
    async handshake(fields, extra) {
      const s = await handshake(target, fields, extra);
      conns.push(s.conn);
      return s;
    },
  };
  try {
    await c.run(ctx);
  } finally {
    for (const conn of conns) conn.destroy();
  }
}

/** Waits for the next frame, which must be a GOAWAY with `code`; then the connection must close (§9.11). */
export async function expectGoAway(conn: RawConn, code: number, ms = WAIT_MS): Promise<GoAway> {
  const e = await conn.next(ms);
  if (e.kind !== "frame") assert.fail(`expected GOAWAY ${code}, got ${e.kind}`);
  if (e.frame.type !== T.GoAway) assert.fail(`expected GOAWAY ${code}, got ${describe(e.frame)}`);
  const g = parseGoAway(e.frame);
  assert.equal(g.code, code, `GOAWAY code (message: "${g.message}")`);
  assert.ok(g.utf8, "GOAWAY message is UTF-8 (§9.9)");
  await conn.closedWithin(WAIT_MS);
  return g;
}

/** §9.11/§9.13: the next frame is GOAWAY code 3, last_call_id 0, a non-empty message; then the close. */
export async function expectProtocolError(conn: RawConn, ms = WAIT_MS): Promise<void> {
  const g = await expectGoAway(conn, 3, ms);
  assert.equal(g.lastCallId, 0, "last_call_id of a protocol-error GOAWAY (§9.11)");
  assert.ok(g.message.length > 0, "a protocol-error GOAWAY says what was wrong (§9.11)");
}

/** The connection closes without the node sending a single byte (§2.1, §4.13). */
export async function expectSilentClose(conn: RawConn, ms = WAIT_MS): Promise<void> {
  const e = await conn.next(ms);
  assert.equal(e.kind, "close", `expected the node to close without sending anything, got ${e.kind === "frame" ? describe(e.frame) : e.kind}`);
}

/** Nothing arrives for `ms` (the node ignored what was sent, and kept the connection). */
export async function expectQuiet(conn: RawConn, ms: number): Promise<void> {
  const e = await conn.next(ms);
  if (e.kind === "frame") assert.fail(`expected nothing, got ${describe(e.frame)}`);
  assert.equal(e.kind, "timeout", "the connection stays open");
}

/** A server frame that must be a PING (with or without ACK). */
export function assertPing(f: Frame, ack: boolean): void {
  assert.equal(f.type, T.Ping, `expected PING, got ${describe(f)}`);
  assert.equal((f.flags & 1) === 1, ack, ack ? "PING has the ACK flag" : "PING has no ACK flag");
  assert.equal(f.body.length, 8, "PING body is 8 bytes (§9.4)");
}

/** A case that completes the handshake (with `fields`), sends `bytes` and expects a protocol error (§9.13). */
export function protocolErrorCase(rule: string, name: string, bytes: Buffer | ((s: Session) => Buffer), fields: HelloFields = {}): Case {
  return {
    rule,
    name,
    async run(ctx) {
      const s = await ctx.handshake(fields);
      s.conn.write(typeof bytes === "function" ? bytes(s) : bytes);
      await expectProtocolError(s.conn);
    },
  };
}
