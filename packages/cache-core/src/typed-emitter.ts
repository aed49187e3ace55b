import { FinRiskCacheError } from './errors.js';

/** Listener signatures by event name: `{ error: (event: ErrorEvent) => void }`. */
export type EventMap<Events> = { [E in keyof Events]: (payload: never) => void };

/**
 * A small typed event emitter, shared by the cache and the packages built on it (cache-ml,
 * cache-frames). A listener that throws cannot break the caller's request: its error is
 * swallowed. Subscribing to an event the emitter does not have throws E_INVALID_VALUE, so a
 * typo (`'eror'`) fails loudly instead of never firing.
 */
export class TypedEmitter<Events extends EventMap<Events>> {
  readonly #listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  /** @param events the events this emitter has */
  constructor(events: readonly (keyof Events & string)[]) {
    for (const event of events) this.#listeners.set(event, new Set());
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    const listeners = this.#listeners.get(event);
    if (!listeners) {
      throw new FinRiskCacheError('E_INVALID_VALUE', `unknown event ${JSON.stringify(event)}; the events are ${[...this.#listeners.keys()].join(', ')}`);
    }
    listeners.add(listener);
    return () => this.off(event, listener);
  }

  /** Unsubscribes a listener. */
  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /** True when the event has listeners (to skip building a payload nobody hears). */
  hasListeners(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  /** Calls every listener of `event` with `payload`; a listener's exception is dropped. */
  emit<E extends keyof Events>(event: E, payload: Parameters<Events[E]>[0]): void {
    const listeners = this.#listeners.get(event);
    if (!listeners || listeners.size === 0) return;
    for (const listener of listeners) {
      try {
        (listener as (p: typeof payload) => void)(payload);
      } catch {
        // A listener's bug must not break the caller's request.
      }
    }
  }
}
