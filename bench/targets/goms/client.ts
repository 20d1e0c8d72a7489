/** goms: createNode with the server as a static peer; `bench.echo(msg)` per call (built package, dist/). */
import { clientTarget } from "../../lib/target.js";
import { startEchoClient } from "./echo-client.js";

await clientTarget(async (cfg) => {
  const { node, echo } = await startEchoClient(cfg);
  return {
    call: { kind: "promise", fn: echo },
    close: async () => {
      await node.close();
    },
  };
});
