/**
 * gateway suite, baseline: a bare node:http JSON server doing the same HTTP work as
 * the gateway at its thinnest: read the body, JSON.parse, answer with JSON.stringify.
 * /api/BenchService/Echo sets field1/field2 and echoes the message (as the goms
 * BenchService does); any other path echoes { value: key } (as DB.Query does).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { echoJson, type BenchJson } from "../../lib/payload.js";

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const text =
      req.url === "/api/BenchService/Echo"
        ? JSON.stringify(echoJson(body as BenchJson))
        : JSON.stringify({ value: (body as { key?: string }).key ?? "" });
    res.statusCode = 200;
    res.setHeader("content-type", "application/json");
    res.setHeader("content-length", Buffer.byteLength(text));
    res.end(text);
  });
});
server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on("disconnect", () => server.close(() => process.exit(0)));
