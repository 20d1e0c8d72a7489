import { AsyncLocalStorage } from "node:async_hooks";
import { ROOT_CONTEXT, type Context, type ContextManager } from "@opentelemetry/api";

/**
 * An OpenTelemetry context manager on AsyncLocalStorage (what
 * @opentelemetry/context-async-hooks provides, without the dependency), so
 * that the active span follows async calls: a handler's nested calls become
 * children of its server span.
 */
export class AlsContextManager implements ContextManager {
  private als = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.als.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const cb = thisArg === undefined ? fn : (fn.bind(thisArg) as F);
    return this.als.run(context, cb, ...args);
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== "function") return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    const run = this.als.run.bind(this.als);
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      return run(context, () => fn.apply(this, args));
    };
    return bound as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.als.disable();
    this.als = new AsyncLocalStorage<Context>();
    return this;
  }
}
