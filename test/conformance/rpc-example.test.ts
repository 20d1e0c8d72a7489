// docs/protocol.md conformance of the rpc example's node (examples/rpc/server.ts):
// it hosts a server stream (AddServer.Count) and a bidi stream (AddServer.Accumulate), so every §15 case runs.
import { conformanceTests } from "./node-tests.js";

conformanceTests("rpc example", (port) => ["examples/rpc/server.ts", "--port", String(port)], /listening on/, { hostsStreams: true });
