import type { FinRiskCacheError } from './errors.js';
import type { KeyPrefix } from './cache-types.js';
import { InvalidationTracker } from './l1/invalidation-tracker.js';
import type { CacheStore } from './stores/store.js';
import { capabilitiesOf } from './stores/capabilities.js';

/**
 * Changes to the keys under one literal prefix, heard from Redis (CLIENT TRACKING in BCAST mode
 * on a connection per master of its own, the mechanism of L1), whether L1 is on or not. Made by
 * {@link Cache.watchPrefix}, for the few keys a package built on the cache reads at every call
 * and wants to hold instead (cache-ml's generation tokens).
 *
 * How to hold a value read from Redis: note {@link KeyWatch.epoch} before sending the read; the
 * value is current as long as {@link KeyWatch.isUp} is true and the epoch has not moved since.
 * Any change under the prefix reported by Redis, FLUSHALL, SWAPDB, a lost or re-established
 * tracking connection, or a failover moves the epoch. A watch that is never up (the memory or
 * embedded store, an ACL without `+client|tracking`, a Redis before 6) holds nothing: the caller
 * keeps reading the keys.
 */
export interface KeyWatch {
  /** True while every master tracks the prefix for this watch. */
  readonly isUp: boolean;
  /** Moves at every change reported under the prefix, and whenever tracking is lost or re-established. */
  readonly epoch: number;
  /**
   * Resolves once every change that Redis reported to this process before the call has moved the
   * epoch (a PING on each tracking connection: its reply follows them). False when not up.
   */
  sync(): Promise<boolean>;
  /** Stops watching (also done by `cache.close()`). */
  close(): void;
}

/** A heartbeat per tracking connection, like L1's: a stalled one is found within this, in ms. */
const WATCH_HEARTBEAT_MS = 1000;

/** One watched prefix: starts when the cache's store is known, and only on Redis. */
export class PrefixWatch implements KeyWatch {
  readonly #prefix: string;
  readonly #deadlineMs: number;
  readonly #onError: (error: FinRiskCacheError) => void;
  readonly #onChange: ((key: string | null) => void) | undefined;
  #tracker: InvalidationTracker | undefined;
  #up = false;
  #epoch = 0;
  #closed = false;

  constructor(prefix: KeyPrefix, deadlineMs: number, onError: (error: FinRiskCacheError) => void, onChange?: (key: string | null) => void) {
    this.#prefix = prefix.prefix;
    this.#deadlineMs = deadlineMs;
    this.#onError = onError;
    this.#onChange = onChange;
  }

  get isUp(): boolean {
    return this.#up;
  }

  get epoch(): number {
    return this.#epoch;
  }

  #moved(key: string | null): void {
    this.#epoch++;
    this.#onChange?.(key);
  }

  /** The store is known: track on Redis; anything else has no invalidations to hear (the watch stays down). */
  start(store: CacheStore): void {
    const tracking = capabilitiesOf(store).tracking;
    if (this.#closed || this.#tracker || !tracking) return;
    const tracker = (this.#tracker = new InvalidationTracker({
      prefixes: [this.#prefix],
      nodes: () => tracking.trackingNodes(),
      listener: {
        invalidate: (key) => this.#moved(key),
        invalidateAll: () => this.#moved(null),
        up: () => {
          this.#up = true;
          this.#moved(null);
        },
        down: () => {
          this.#up = false;
          this.#moved(null);
        },
      },
      deadlineMs: this.#deadlineMs,
      heartbeatMs: WATCH_HEARTBEAT_MS,
      onError: this.#onError,
      purpose: `the watch of ${this.#prefix} is down (its keys are read from Redis at every use)`,
    }));
    tracking.onTopologyChange(() => tracker.refresh());
    tracker.start();
  }

  async sync(): Promise<boolean> {
    return (await this.#tracker?.sync()) ?? false;
  }

  close(): void {
    this.#closed = true;
    this.#tracker?.close();
    this.#up = false;
    this.#epoch++;
  }
}
