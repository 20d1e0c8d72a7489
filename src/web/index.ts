// goms/web: a typed client for browsers (and any runtime with fetch) that
// calls goms services through the HTTP gateway. No Node built-ins: lint
// keeps this folder to web APIs, @bufbuild/protobuf and goms/errors.
export { createWebClient, statusError } from "./client.js";
export { resumeStream, type ResumeOptions } from "./resume.js";
export type { WebSocketFactory, WebSocketLike } from "./ws.js";
export type { TokenSource } from "./auth.js";
export type { Trailer, TrailerListener } from "./trailer.js";
export type { WebCallOptions, WebClient, WebClientMethodOf, WebClientOptions } from "./client.js";
// Straight from the files, not errors/index: the reason catalog would triple the bundle.
export { Code, codeToString } from "../errors/code.js";
export { GomsError } from "../errors/goms-error.js";
