import { Code, GomsError, gomsError } from "../errors/index.js";
import { DescriptorCatalog, findRoute, hasService, type Route } from "./catalog.js";

const PART = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * The one parser of method names given by people: "DB.Query", "pkg.DB.Query",
 * "DB/Query" and "pkg.DB/Query" (the service may be short or fully-qualified,
 * and the first letter of each part lower case; lookup sorts that out).
 * Returns undefined when the name is not of that shape.
 */
export function parseMethodName(name: string): { service: string; method: string } | undefined {
  const slash = name.indexOf("/");
  const cut = slash >= 0 ? slash : name.lastIndexOf(".");
  if (cut <= 0) return undefined;
  const service = name.slice(0, cut);
  const method = name.slice(cut + 1);
  if (!PART.test(service) || !PART.test(method) || method.includes(".")) return undefined;
  return { service, method };
}

/**
 * Resolves `Service/Method` to a route, caching hits. On a miss the catalog is
 * refreshed (new peers and registrations, fetching their descriptors) before
 * answering not_found, so services added after the gateway started are found.
 */
export class Routes {
  private cache = new Map<string, Route>();
  private cacheOf: ReadonlyMap<string, unknown> | undefined;

  constructor(private readonly catalog: DescriptorCatalog) {}

  private lookup(service: string, method: string, key: string): Route | undefined {
    const services = this.catalog.services();
    if (services !== this.cacheOf) {
      this.cache = new Map();
      this.cacheOf = services;
    }
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const r = findRoute(services, service, method);
    if (r !== undefined && this.cache.size < 10_000) this.cache.set(key, r);
    return r;
  }

  /** Synchronous when the route is cached (the hot path). */
  resolve(service: string, method: string): Route | Promise<Route> {
    const key = `${service}/${method}`;
    this.catalog.maybeSync(1000);
    const r = this.lookup(service, method, key);
    if (r !== undefined) return r;
    return this.catalog.sync(true).then(() => {
      const again = this.lookup(service, method, key);
      if (again !== undefined) return again;
      const known = hasService(this.catalog.services(), service);
      if (known !== undefined) throw gomsError("GOMS_ERR_UNKNOWN_METHOD", { service: known, method });
      throw new GomsError(`unknown service ${service}`, Code.NotFound, { reason: "GOMS_ERR_UNKNOWN_SERVICE" });
    });
  }
}
