/**
 * Cancellation for many calls that share one AbortSignal (a gateway passes
 * the HTTP connection's signal to every call it makes for that connection;
 * a handler passes its own to every nested call).
 *
 * AbortSignal.addEventListener/removeEventListener cost about a microsecond
 * per call in Node's EventTarget. Instead, a connection adds one listener
 * per signal and keeps the calls waiting on it in an intrusive doubly-linked
 * list: joining and leaving are a few pointer writes. Leaving clears the
 * member's own links, so a finished call never keeps a newer one reachable.
 */
export interface SignalMember {
  watch: SignalWatch | undefined;
  wPrev: SignalMember | undefined;
  wNext: SignalMember | undefined;
}

export class SignalWatch {
  private head: SignalMember | undefined = undefined;

  constructor(
    readonly signal: AbortSignal,
    onAbort: (members: SignalMember[]) => void,
  ) {
    signal.addEventListener(
      "abort",
      () => {
        const members: SignalMember[] = [];
        for (let w = this.head; w !== undefined; w = w.wNext) members.push(w);
        onAbort(members);
      },
      { once: true },
    );
  }

  join(w: SignalMember): void {
    w.watch = this;
    w.wPrev = undefined;
    w.wNext = this.head;
    if (this.head !== undefined) this.head.wPrev = w;
    this.head = w;
  }

  leave(w: SignalMember): void {
    if (w.watch !== this) return;
    if (w.wPrev !== undefined) w.wPrev.wNext = w.wNext;
    else this.head = w.wNext;
    if (w.wNext !== undefined) w.wNext.wPrev = w.wPrev;
    w.watch = w.wPrev = w.wNext = undefined;
  }

  get empty(): boolean {
    return this.head === undefined;
  }
}
