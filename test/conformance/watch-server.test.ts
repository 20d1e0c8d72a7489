// docs/protocol.md conformance of the watch server (`goms watch`), with a token so §4.7 is checked too.
// It hosts no public stream method: the §15 cases that need one are reported skipped.
import { conformanceTests } from "./node-tests.js";

const token = "conformance-token";
conformanceTests("goms watch", (port) => ["src/cli/main.ts", "watch", "--port", String(port), "--token", token], /goms watch listening on/, { token, hostsStreams: false });
