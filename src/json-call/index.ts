// goms/json-call: calls by name with JSON, driven by the descriptors nodes publish.
//
// For applications and tools:
export { createJsonCaller } from "./json-caller.js";
export type { JsonCaller, JsonCallerOptions, JsonCallResult } from "./json-caller.js";

// For library authors (the gateway and the admin console build on these):
export { DescriptorCatalog, type Route, type ServiceEntry } from "./catalog.js";
export { parseMethodName } from "./routes.js";
