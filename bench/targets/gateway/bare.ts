/**
 * gateway suite, baseline: a bare node:http JSON echo doing the same HTTP work as
 * the gateway at its thinnest (read body, JSON.parse, JSON.stringify { value: key }).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { key?: string };
    const text = JSON.stringify({ value: body.key ?? "" });
    res.statusCode = 200;
    res.setHeader("content-type", "application/json");
    res.setHeader("content-length", Buffer.byteLength(text));
    res.end(text);
  });
});
server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on("disconnect", () => server.close(() => process.exit(0)));
