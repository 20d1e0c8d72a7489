import type { IncomingMessage } from "node:http";
import { Code, GomsError } from "../errors/index.js";

/** A body read failure with the HTTP status to answer. */
export class BodyError extends GomsError {
  constructor(
    message: string,
    code: Code,
    readonly status: number,
  ) {
    super(message, code);
  }
}

/**
 * Reads the whole request body as UTF-8, at most `limit` bytes (else 413) and
 * within `timeoutMs` (else 408: a client trickling its body).
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, text?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
      if (err !== undefined) reject(err);
      else resolve(text!);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        req.pause();
        finish(new BodyError(`request body exceeds ${limit} bytes`, Code.ResourceExhausted, 413));
        return;
      }
      chunks.push(c);
    };
    const onEnd = (): void => {
      finish(undefined, chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, size).toString("utf8"));
    };
    const onError = (e: Error): void => finish(new BodyError(`reading the request body: ${e.message}`, Code.Canceled, 499));
    const onAborted = (): void => finish(new BodyError("the client went away", Code.Canceled, 499));
    const timer = setTimeout(() => finish(new BodyError(`request body not received within ${timeoutMs} ms`, Code.DeadlineExceeded, 408)), timeoutMs);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}
