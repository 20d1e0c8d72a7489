import { Duplex } from "node:stream";
import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import type { AcceptInfo, Listener, Stream, Transport } from "./types.js";

/** Per-link behaviour, used by the testing harness for fault injection. */
export interface LinkFaults {
  /** Extra latency applied to every chunk, in ms. */
  delayMs?: number;
  /** When true, chunks are silently dropped (a partitioned link). */
  blackhole?: boolean;
}

class MemoryEnd extends Duplex {
  other: MemoryEnd | undefined;
  faults: LinkFaults = {};
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const other = this.other;
    if (!other || this.faults.blackhole) return cb();
    const copy = Buffer.from(chunk);
    const delay = this.faults.delayMs ?? 0;
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

/** A pair of connected in-memory streams. */
export function memoryPair(): [MemoryEnd, MemoryEnd] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}

/**
 * An in-memory network: nodes listen on "host:port" names inside it and dial
 * each other without sockets. For unit tests; real tests use tcpTransport.
 */
export class MemoryNetwork {
  private readonly listeners = new Map<string, (s: Stream, info: AcceptInfo) => void>();
  private readonly links = new Set<MemoryEnd>();
  private nextPort = 40000;

  transport(): Transport {
    return {
      listen: async (host, port, onStream): Promise<Listener> => {
        const bound = port === 0 ? this.nextPort++ : port;
        const key = `${host}:${bound}`;
        if (this.listeners.has(key)) throw new GomsError(`address ${key} in use`, Code.AlreadyExists);
        this.listeners.set(key, onStream);
        return { port: bound, close: async () => void this.listeners.delete(key) };
      },
      dial: async (host, port): Promise<Stream> => {
        const accept = this.listeners.get(`${host}:${port}`);
        if (!accept) throw new GomsError(`connect to ${host}:${port} failed: connection refused`, Code.Unavailable);
        const [client, server] = memoryPair();
        this.track(client);
        this.track(server);
        queueMicrotask(() => accept(server, { remoteAddress: "memory" }));
        return client;
      },
    };
  }

  private track(end: MemoryEnd): void {
    this.links.add(end);
    end.once("close", () => this.links.delete(end));
  }

  /** Applies faults to every live stream (both directions). */
  setFaults(faults: LinkFaults): void {
    for (const l of this.links) l.faults = faults;
  }

  /** Destroys every live stream: every connection drops. */
  cutAll(): void {
    for (const l of [...this.links]) l.destroy();
  }
}
