// docs/protocol.md conformance of the watch server (`goms watch`), with a token so §4.7 is checked too.
import { conformanceTests } from "./node-tests.js";

const token = "conformance-token";
conformanceTests("goms watch", (port) => ["src/cli/main.ts", "watch", "--port", String(port), "--token", token], /goms watch listening on/, token);
