export { Code, codeToString, codeFromString, isCode } from "./code.js";
export { GomsError } from "./goms-error.js";
export type { ErrorDetail, GomsErrorOptions } from "./goms-error.js";
export { REASONS, gomsError, isReason, reasonStatus } from "./reasons.js";
export type { Reason, ReasonParams } from "./reasons.js";
