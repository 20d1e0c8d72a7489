import { BlockList, isIP } from "node:net";
import { gomsError } from "../../errors/index.js";

/** Strips the IPv4-mapped IPv6 prefix ("::ffff:1.2.3.4" -> "1.2.3.4"). */
export function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** A set of IPs and CIDRs (v4 and v6): the trusted proxies of an HTTP server. */
export class IpSet {
  private readonly list = new BlockList();
  readonly size: number;

  /** `option` names the setting the entries come from, for the error message. */
  constructor(entries: readonly string[], option = "trustedProxies") {
    for (const raw of entries) {
      const [addr, bits] = raw.trim().split("/") as [string, string | undefined];
      const family = isIP(addr);
      if (family === 0) throw gomsError("GOMS_ERR_INVALID_OPTION", { option, problem: `not an IP address or CIDR: ${raw}` });
      const type = family === 4 ? "ipv4" : "ipv6";
      if (bits === undefined) this.list.addAddress(addr, type);
      else {
        const n = Number(bits);
        if (!Number.isInteger(n) || n < 0 || n > (family === 4 ? 32 : 128)) throw gomsError("GOMS_ERR_INVALID_OPTION", { option, problem: `bad prefix length in ${raw}` });
        this.list.addSubnet(addr, n, type);
      }
    }
    this.size = entries.length;
  }

  has(ip: string): boolean {
    if (this.size === 0) return false;
    const a = normalizeIp(ip);
    const family = isIP(a);
    if (family === 0) return false;
    return this.list.check(a, family === 4 ? "ipv4" : "ipv6");
  }
}

/**
 * The client address: the socket peer, unless that peer is a trusted proxy, in
 * which case X-Forwarded-For is read right to left and the first hop that is
 * not a trusted proxy is the client.
 */
export function clientIp(socketIp: string | undefined, xff: string | string[] | undefined, trusted: IpSet): string {
  const peer = normalizeIp(socketIp ?? "");
  if (xff === undefined || !trusted.has(peer)) return peer;
  const hops = (Array.isArray(xff) ? xff.join(",") : xff)
    .split(",")
    .map((s) => normalizeIp(s.trim()))
    .filter((s) => isIP(s) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    if (!trusted.has(h)) return h;
  }
  return hops[0] ?? peer;
}

/**
 * True when the request reached the first proxy over TLS: the socket peer is
 * a trusted proxy and the last X-Forwarded-Proto value (the one the nearest
 * proxy set) is `https`. From anyone else the header is ignored.
 */
export function forwardedHttps(socketIp: string | undefined, xfp: string | string[] | undefined, trusted: IpSet): boolean {
  if (xfp === undefined || !trusted.has(normalizeIp(socketIp ?? ""))) return false;
  const values = (Array.isArray(xfp) ? xfp.join(",") : xfp).split(",");
  return values[values.length - 1]!.trim().toLowerCase() === "https";
}
