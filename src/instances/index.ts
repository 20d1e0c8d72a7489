export { createInstanceManager } from "./manager.js";
export type { InstanceEvent, InstanceInfo, InstanceManager, InstanceManagerOptions, InstanceProgram, InstanceState, RestartOptions } from "./manager.js";
export { INSTANCE_ENV, instanceFromEnv, instanceVars, type HealthPortOptions, type InstanceEnv } from "./env.js";
export { describeInstanceEvent } from "./describe.js";
export { startHealthPort } from "./health.js";
