import assert from "node:assert/strict";
import net from "node:net";
import { after, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { createNode } from "../../src/rpc/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { HelloSchema } from "../../src/gen/goms/v1/node_pb.js";

// The example in docs/protocol.md §13, byte for byte.
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const method = Buffer.from("goms.examples.v1.AddServer/Add", "latin1");
const REQUEST = Buffer.concat([hex("00000030 02 00 00000001 000003e8 00 1e"), method, hex("0000 0801 1002")]);
const RESPONSE = hex("0000000e 03 00 00000001 00 00 0000 0000 0803");

const node = createNode({ identity: { name: "rpc0" }, listen: { port: 0 } });
node.service(AddServer, { add: (r) => ({ sum: r.a + r.b }) });
after(() => node.close({ graceMs: 100 }));

it("a hand-written client following docs/protocol.md gets the documented bytes back", async () => {
  await node.start();
  const sock = net.connect(node.port, "127.0.0.1");
  const hello = toBinary(HelloSchema, create(HelloSchema, { node: { name: "hand" } }));
  const helloFrame = Buffer.alloc(10);
  helloFrame.writeUInt32BE(6 + hello.length, 0);
  helloFrame[4] = 1;
  const preface = Buffer.from([0x47, 0x4f, 0x4d, 0x53, 1, 1, 0, 0]);
  sock.write(Buffer.concat([preface, helloFrame, hello, REQUEST]));
  let got = Buffer.alloc(0);
  const frames: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    sock.on("error", reject);
    sock.on("data", (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (frames.length === 0 && got.length >= 8) {
        assert.deepEqual([...got.subarray(0, 8)], [0x47, 0x4f, 0x4d, 0x53, 1, 0, 0, 0], "preface reply chooses version 1");
        got = got.subarray(8);
        frames.push(Buffer.alloc(0));
      }
      while (frames.length > 0 && got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        const len = got.readUInt32BE(0);
        frames.push(got.subarray(0, 4 + len));
        got = got.subarray(4 + len);
      }
      if (frames.length >= 3) resolve();
    });
  });
  sock.destroy();
  assert.equal(frames[1]![4], 1, "server HELLO comes first");
  assert.deepEqual(frames[2], RESPONSE);
});
