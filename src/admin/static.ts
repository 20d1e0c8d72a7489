import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** dist/admin-ui, whether this module runs from dist/admin (built) or src/admin (tsx). */
export function defaultUiDir(): string {
  const candidates = [fileURLToPath(new URL("../admin-ui/", import.meta.url)), fileURLToPath(new URL("../../dist/admin-ui/", import.meta.url))];
  return candidates.find((d) => existsSync(join(d, "index.html"))) ?? candidates[0]!;
}

/** Serves the built single-page UI; unknown paths get index.html. */
export async function serveUi(dir: string, pathname: string, res: ServerResponse): Promise<void> {
  const rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, "");
  let file = join(dir, rel);
  if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep) || rel === "" || !existsSync(file) || extname(file) === "") file = join(dir, "index.html");
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
    res.end("admin UI not built: run npm run build:ui\n");
    return;
  }
  const immutable = file.includes(`${sep}assets${sep}`);
  res.writeHead(200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": body.length,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
  });
  res.end(body);
}
