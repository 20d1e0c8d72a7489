// Every fuzz target, one import per area. Add yours here (one line each).
import type { FuzzTarget } from "./target.js";
import { cappedMapTargets } from "./capped-map.fuzz.js";
import { adminTargets } from "./admin.fuzz.js";
import { gatewayTargets } from "./gateway.fuzz.js";
import { watchTargets } from "./watch.fuzz.js";
import { wireTargets } from "./wire.fuzz.js";
import { wsAuthTargets } from "./ws-auth.fuzz.js";

export const TARGETS: readonly FuzzTarget[] = [
  ...cappedMapTargets,
  ...adminTargets,
  ...gatewayTargets,
  ...watchTargets,
  ...wireTargets,
  ...wsAuthTargets,
];
