import type { ServerResponse } from "node:http";
import { Code, GomsError, gomsError } from "../errors/index.js";
import { RetryLater } from "./rate-limit.js";
import { isRetryElsewhere } from "../internal/admission/admission.js";
import type { Route } from "../json-call/index.js";
import type { ShedOptions } from "./options.js";

/**
 * Load shedding at the edge (docs/gateway.md, "Shedding"). Two cases answer
 * 503 with Retry-After at once instead of letting requests wait:
 *
 * - every backend of a route refused the call (resource_exhausted with the
 *   retry-elsewhere hint, after the gateway node retried it on the other
 *   nodes within its retry budget): waiting would only add load;
 * - a route already has its configured number of requests in flight.
 *
 * Counts are per gateway process: with `--workers N` each worker has its own.
 */
export class Shedder {
  readonly retryAfterSec: number;
  private readonly perRoute: number | undefined;
  private readonly limits: ReadonlyMap<string, number>;
  /** Requests in flight by route path; an entry is removed when its count drops to 0. */
  private readonly inflight = new Map<string, number>();

  constructor(o: ShedOptions = {}) {
    this.retryAfterSec = o.retryAfterSec ?? 1;
    this.perRoute = o.maxInflightPerRoute;
    this.limits = new Map(Object.entries(o.routes ?? {}));
    const bad = (what: string, n: number): boolean => !Number.isInteger(n) || n < (what === "retryAfterSec" ? 1 : 0);
    const check = (what: string, n: number): void => {
      if (bad(what, n)) throw gomsError("GOMS_ERR_INVALID_OPTION", { option: `shed.${what}`, problem: `${n} is not a ${what === "retryAfterSec" ? "positive" : "non-negative"} integer` });
    };
    check("retryAfterSec", this.retryAfterSec);
    if (this.perRoute !== undefined) check("maxInflightPerRoute", this.perRoute);
    for (const [k, n] of this.limits) check(`routes[${JSON.stringify(k)}]`, n);
  }

  /** True when some route has a concurrency limit (else admit() need not be called). */
  get limited(): boolean {
    return this.perRoute !== undefined || this.limits.size > 0;
  }

  /** The limit of `route`: the most specific key of `routes` that names it, else maxInflightPerRoute. */
  limitOf(route: Route): number | undefined {
    const svc = route.entry.service;
    const m = route.method.name;
    return this.limits.get(`${svc.typeName}/${m}`) ?? this.limits.get(`${svc.name}/${m}`) ?? this.limits.get(svc.typeName) ?? this.limits.get(svc.name) ?? this.perRoute;
  }

  /**
   * Counts a request to `route` in flight until `res` closes, or throws the
   * 503 when the route is at its limit.
   */
  admit(route: Route, res: ServerResponse): void {
    const limit = this.limitOf(route);
    if (limit === undefined) return;
    const key = route.path;
    const n = this.inflight.get(key) ?? 0;
    if (n >= limit) throw new RetryLater(gomsError("GOMS_ERR_ROUTE_BUSY", { route: key, limit }), this.retryAfterSec);
    this.inflight.set(key, n + 1);
    res.once("close", () => {
      const left = (this.inflight.get(key) ?? 1) - 1;
      if (left > 0) this.inflight.set(key, left);
      else this.inflight.delete(key);
    });
  }

  /**
   * The error to answer for a failed call: a refusal every backend gave
   * becomes a 503 with Retry-After (the reason tells it from a timeout);
   * anything else is answered as it is.
   */
  answerFor(e: unknown, route: Route): unknown {
    if (!GomsError.is(e) || e.code !== Code.ResourceExhausted || !isRetryElsewhere(e)) return e;
    return new RetryLater(gomsError("GOMS_ERR_BACKENDS_BUSY", { service: route.entry.service.typeName, why: e.rawMessage }), this.retryAfterSec);
  }
}
