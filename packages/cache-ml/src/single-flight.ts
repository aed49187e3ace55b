/**
 * In-process single flight: concurrent calls for the same key share one execution of `fn`.
 * The entry is removed as soon as the call settles, so a failure is never remembered and the
 * next caller starts a fresh execution.
 */
export class SingleFlight<V> {
  readonly #inFlight = new Map<string, Promise<V>>();

  /** Runs `fn` for `key`, or joins the execution already running for it. */
  run(key: string, fn: () => Promise<V>): Promise<V> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const promise = (async () => {
      try {
        return await fn();
      } finally {
        this.#inFlight.delete(key);
      }
    })();
    this.#inFlight.set(key, promise);
    return promise;
  }

  /** True while an execution for `key` is running. */
  has(key: string): boolean {
    return this.#inFlight.has(key);
  }

  /** How many executions are running. */
  get size(): number {
    return this.#inFlight.size;
  }
}
