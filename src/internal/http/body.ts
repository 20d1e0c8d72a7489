import type { IncomingMessage } from "node:http";
import { gomsError } from "../../errors/index.js";

/**
 * Reads the whole request body as UTF-8, at most `limit` bytes and within
 * `timeoutMs`. Rejects with GOMS_ERR_BODY_TOO_LARGE (HTTP 413) as soon as the
 * Content-Length or the bytes read pass the limit, GOMS_ERR_BODY_TIMEOUT (408)
 * for a client trickling its body, GOMS_ERR_CLIENT_GONE when the client goes away.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<string> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(gomsError("GOMS_ERR_BODY_TOO_LARGE", { limit }));
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
        finish(gomsError("GOMS_ERR_BODY_TOO_LARGE", { limit }));
        return;
      }
      chunks.push(c);
    };
    const onEnd = (): void => {
      finish(undefined, chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, size).toString("utf8"));
    };
    const onError = (e: Error): void => finish(gomsError("GOMS_ERR_CLIENT_GONE", { why: e.message }, { cause: e }));
    const onAborted = (): void => finish(gomsError("GOMS_ERR_CLIENT_GONE", { why: "request aborted" }));
    const timer = setTimeout(() => finish(gomsError("GOMS_ERR_BODY_TIMEOUT", { ms: timeoutMs })), timeoutMs);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}
