import type { HandlerFn, Interceptor, ServerInterceptor, UnaryFn } from "./types.js";

/** Composes interceptors so that the first one is outermost. */
export function composeClient(interceptors: readonly Interceptor[], base: UnaryFn): UnaryFn {
  let fn = base;
  for (let i = interceptors.length - 1; i >= 0; i--) fn = interceptors[i]!(fn);
  return fn;
}

export function composeServer(interceptors: readonly ServerInterceptor[], base: HandlerFn): HandlerFn {
  let fn = base;
  for (let i = interceptors.length - 1; i >= 0; i--) fn = interceptors[i]!(fn);
  return fn;
}
