/** Why {@link RequestLimiter.acquire} gave no slot. */
export type RefusedSlot = 'queue-full' | 'timed-out' | 'gone';

/**
 * At most `inFlight` holders at once; up to `queue` more wait their turn in order, each for at
 * most `waitMs`; anyone past that is refused at once. For the dashboard's requests that read
 * Redis on demand: each may hold a response of up to a megabyte, or a frame of up to
 * PREVIEW_MAX_BYTES, while it is built, so their number, not their rate, bounds the memory.
 */
export class RequestLimiter {
  readonly #inFlight: number;
  readonly #queue: number;
  readonly #waitMs: number;
  #running = 0;
  readonly #waiting: { grant: () => void; refuse: (why: RefusedSlot) => void }[] = [];

  constructor(options: { inFlight: number; queue: number; waitMs: number }) {
    this.#inFlight = options.inFlight;
    this.#queue = options.queue;
    this.#waitMs = options.waitMs;
  }

  /** Holders now. */
  get running(): number {
    return this.#running;
  }

  /** Requests waiting for a slot now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * A slot: resolves to its release function (call it once, when done), or to why there is none:
   * the queue was full, the wait passed `waitMs`, or `signal` aborted (the client left) first.
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | RefusedSlot> {
    if (signal?.aborted) return Promise.resolve('gone');
    if (this.#running < this.#inFlight) return Promise.resolve(this.#grant());
    if (this.#waiting.length >= this.#queue) return Promise.resolve('queue-full');
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          settle();
          resolve(this.#grant());
        },
        refuse: (why: RefusedSlot) => {
          settle();
          resolve(why);
        },
      };
      const timer = setTimeout(() => waiter.refuse('timed-out'), this.#waitMs);
      const onAbort = () => waiter.refuse('gone');
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.#waiting.indexOf(waiter);
        if (at !== -1) this.#waiting.splice(at, 1);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #grant(): () => void {
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      // The slot goes straight to the first in line, so that a newcomer cannot overtake it.
      this.#waiting[0]?.grant();
    };
  }
}
