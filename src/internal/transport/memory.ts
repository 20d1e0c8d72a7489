import { Duplex } from "node:stream";
import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import type { AcceptInfo, Listener, Stream, Transport } from "./types.js";

/** Per-link behaviour, used by the testing harness for fault injection. */
export interface LinkFaults {
  /** Extra latency applied to every chunk, in ms. */
  delayMs?: number;
  /** When true, chunks are silently dropped (a partitioned link) and new dials are refused. */
  blackhole?: boolean;
}

class MemoryEnd extends Duplex {
  other: MemoryEnd | undefined;
  constructor(
    /** Labels of this end's node and of the node at the other end. */
    readonly local: string,
    readonly remote: string,
    private readonly faults: () => LinkFaults,
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const other = this.other;
    const f = this.faults();
    if (!other || f.blackhole) return cb();
    const copy = Buffer.from(chunk);
    const delay = f.delayMs ?? 0;
    if (delay > 0) setTimeout(() => other.push(copy), delay);
    else other.push(copy);
    cb();
  }
  override _read(): void {}
  override _final(cb: (err?: Error | null) => void): void {
    this.other?.push(null);
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const other = this.other;
    this.other = undefined;
    if (other && !other.destroyed) other.destroy();
    cb(err);
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

/**
 * An in-memory network: nodes listen on "host:port" names inside it and dial
 * each other without sockets. Each transport carries a label (the node name),
 * so faults can be injected per link. For unit tests; real tests use TCP.
 */
export class MemoryNetwork {
  private readonly listeners = new Map<string, { label: string; accept: (s: Stream, info: AcceptInfo) => void }>();
  private readonly links = new Set<MemoryEnd>();
  private readonly linkFaults = new Map<string, LinkFaults>();
  private globalFaults: LinkFaults = {};
  private nextPort = 40000;

  transport(label = "node"): Transport {
    return {
      listen: async (host, port, onStream): Promise<Listener> => {
        const bound = port === 0 ? this.nextPort++ : port;
        const key = `${host}:${bound}`;
        if (this.listeners.has(key)) throw new GomsError(`address ${key} in use`, Code.AlreadyExists);
        this.listeners.set(key, { label, accept: onStream });
        return { port: bound, close: async () => void this.listeners.delete(key) };
      },
      dial: async (host, port): Promise<Stream> => {
        const l = this.listeners.get(`${host}:${port}`);
        if (!l || this.faultsOf(label, l.label).blackhole) {
          throw new GomsError(`connect to ${host}:${port} failed: connection refused`, Code.Unavailable);
        }
        const faults = (): LinkFaults => this.faultsOf(label, l.label);
        const client = new MemoryEnd(label, l.label, faults);
        const server = new MemoryEnd(l.label, label, faults);
        client.other = server;
        server.other = client;
        this.track(client);
        this.track(server);
        queueMicrotask(() => l.accept(server, { remoteAddress: `memory:${label}` }));
        return client;
      },
    };
  }

  private faultsOf(a: string, b: string): LinkFaults {
    return this.linkFaults.get(linkKey(a, b)) ?? this.globalFaults;
  }

  private track(end: MemoryEnd): void {
    this.links.add(end);
    end.once("close", () => this.links.delete(end));
  }

  /** Applies faults to every link (both directions) that has no link-specific faults. */
  setFaults(faults: LinkFaults): void {
    this.globalFaults = faults;
  }

  /** Applies faults to the links between nodes `a` and `b` (both directions); undefined clears them. */
  setLinkFaults(a: string, b: string, faults: LinkFaults | undefined): void {
    if (faults === undefined) this.linkFaults.delete(linkKey(a, b));
    else this.linkFaults.set(linkKey(a, b), faults);
  }

  /** Drops every live stream between `a` and `b`. */
  cut(a: string, b: string): void {
    for (const l of [...this.links]) if ((l.local === a && l.remote === b) || (l.local === b && l.remote === a)) l.destroy();
  }

  /** Destroys every live stream: every connection drops. */
  cutAll(): void {
    for (const l of [...this.links]) l.destroy();
  }
}
