// Every fuzz target, one import per area. Add yours here (one line each).
import type { FuzzTarget } from "./target.js";
import { cappedMapTargets } from "./capped-map.fuzz.js";
import { gatewayTargets } from "./gateway.fuzz.js";

export const TARGETS: readonly FuzzTarget[] = [
  ...cappedMapTargets,
  ...gatewayTargets,
];
