// Browser credentials on WebSocket upgrades (docs/streams.md "Browser auth"):
// what goms/web offers as subprotocols is read back by the gateway as the same
// token, and any Sec-WebSocket-Protocol value either yields headers or is
// refused as unauthenticated, never another failure.
import fc from "fast-check";
import assert from "node:assert/strict";
import { Code, GomsError } from "../../src/errors/index.js";
import { credentialHeaders } from "../../src/gateway/auth.js";
import { webSocketProtocols } from "../../src/web/auth.js";
import type { FuzzTarget } from "./target.js";

const upgrade = (offer: string): Record<string, string> => ({ upgrade: "websocket", "sec-websocket-protocol": offer });

export const wsAuthTargets: FuzzTarget[] = [
  {
    name: "ws-auth-roundtrip",
    check(runs) {
      fc.assert(
        fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }), (token) => {
          const h = credentialHeaders(upgrade(webSocketProtocols(token).join(", ")));
          assert.equal(h.authorization, `Bearer ${token}`);
        }),
        { numRuns: runs },
      );
    },
  },
  {
    name: "ws-auth-offer",
    check(runs) {
      const part = fc.oneof(fc.string(), fc.constantFrom("goms.v1", "goms.bearer.", "goms.apikey."), fc.string().map((s) => `goms.bearer.${s}`), fc.string().map((s) => `goms.apikey.${s}`));
      fc.assert(
        fc.property(fc.array(part, { maxLength: 6 }), (parts) => {
          try {
            credentialHeaders(upgrade(parts.join(",")));
          } catch (e) {
            assert.ok(GomsError.is(e) && e.code === Code.Unauthenticated, `unexpected ${String(e)}`);
          }
        }),
        { numRuns: runs },
      );
    },
  },
];
