// docs/protocol.md conformance of the rpc example's node (examples/rpc/server.ts).
import { conformanceTests } from "./node-tests.js";

conformanceTests("rpc example", (port) => ["examples/rpc/server.ts", "--port", String(port)], /listening on/);
