export { createGateway } from "./gateway.js";
export type { Gateway } from "./gateway.js";
export type { ApiKey, AuthRule, BucketOptions, CorsOptions, GatewayOptions, JwtAuth, RateLimitOptions } from "./options.js";
export { httpStatus, errorBody } from "./errors-http.js";
export type { ErrorBody } from "./errors-http.js";
export { buildOpenApi } from "./openapi.js";
