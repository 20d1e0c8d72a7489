export { createGateway } from "./gateway.js";
export type { Gateway } from "./gateway.js";
export type { ApiKey, AuthRule, BucketOptions, CorsOptions, GatewayOptions, JwtAuth, RateLimitOptions, ShedOptions, TokenSource } from "./options.js";
export { httpStatus, errorBody } from "../internal/http/json.js";
export type { ErrorBody } from "../internal/http/json.js";
export { buildOpenApi } from "./openapi.js";
export { RateLimiter, RetryLater } from "./rate-limit.js";
