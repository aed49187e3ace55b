import { toCacheError, type Cache, type CacheKey } from '@finrisk/cache-core';
import { DistributedLock } from './distributed-lock.js';
import type { MlKeys } from './ml-keys.js';
import type { LockOptions, MlCacheErrorEvent, MlCacheStats } from './options.js';
import { SingleFlight } from './single-flight.js';
import { invalidValue } from './errors.js';
import type { CachedEntry } from './stored-entry.js';

/** Lock settings with every default filled in. */
export interface ResolvedLock {
  ttlMs: number;
  waitMs: number;
  pollMs: number;
}

/** Fills in the defaults of a lock option; null when locking is off. */
export function resolveLock(lock: boolean | LockOptions | undefined): ResolvedLock | null {
  if (lock === undefined || lock === false) return null;
  const options = lock === true ? {} : lock;
  const positive = (value: number | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0) throw invalidValue(`lock.${name} must be a positive number of ms, got ${value}`);
    return value;
  };
  return {
    ttlMs: positive(options.ttlMs, 10_000, 'ttlMs'),
    waitMs: positive(options.waitMs, 5_000, 'waitMs'),
    pollMs: positive(options.pollMs, 50, 'pollMs'),
  };
}

/** What read-through needs to know about one cached value. */
export interface ReadThroughSlot<T> {
  /** The key of the value (single-flight id and lock target). */
  readonly key: CacheKey;
  /** Reads the value; `generation` is the model type's token seen by the read (predictions), else null. */
  read(): Promise<{ hit: CachedEntry<T> | null; generation: string | null }>;
  /** Checks a computed value (shape, schema) and returns what to cache and return; throws. */
  prepare(value: T): Promise<T>;
  /** Writes a prepared value under the generation the read saw. */
  write(value: T, generation: string | null): Promise<boolean>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Read-through with three guards against stampedes: single flight in the process, an optional
 * lock across processes, and an optional grace period during which the stale value is served
 * while one caller refreshes it in the background.
 */
export class ReadThrough {
  /** Counters, mutated in place. */
  readonly stats: MlCacheStats = {
    computes: 0, singleFlightJoins: 0, locksAcquired: 0, lockWaits: 0, lockWaitTimeouts: 0, staleServed: 0, refreshes: 0, computeFailures: 0,
  };
  readonly #cache: Cache;
  readonly #keys: MlKeys;
  readonly #lock: DistributedLock;
  readonly #report: (event: MlCacheErrorEvent) => void;
  readonly #defaultLock: ResolvedLock | null;
  readonly #flights = new SingleFlight<unknown>();
  readonly #refreshing = new SingleFlight<void>();
  readonly #pending = new Set<Promise<void>>();

  /** `defaultLock`: the lock of calls that do not set their own (the MlCache's `lock` option). */
  constructor(cache: Cache, keys: MlKeys, report: (event: MlCacheErrorEvent) => void, defaultLock: ResolvedLock | null) {
    this.#cache = cache;
    this.#keys = keys;
    this.#lock = new DistributedLock(cache);
    this.#report = report;
    this.#defaultLock = defaultLock;
  }

  /**
   * Returns the cached value, or computes, caches and returns it. A compute that throws is not
   * cached and its error is thrown. `lockOption` is the call's own `lock`; throws E_INVALID_VALUE
   * for a bad one.
   */
  run<T>(slot: ReadThroughSlot<T>, compute: () => T | Promise<T>, lockOption: boolean | LockOptions | undefined): Promise<T> {
    const lock = lockOption === undefined ? this.#defaultLock : resolveLock(lockOption);
    const id = `${slot.key.kind}\u0000${slot.key.key}`;
    if (this.#flights.has(id)) this.stats.singleFlightJoins++;
    return this.#flights.run(id, async () => {
      const first = await slot.read();
      if (first.hit && !first.hit.isStale) return first.hit.value;
      if (first.hit) {
        this.stats.staleServed++;
        this.#refreshInBackground(id, slot, compute, lock, first.generation);
        return first.hit.value;
      }
      return this.#fill(slot, compute, lock, first.generation);
    }) as Promise<T>;
  }

  /** Resolves when every background refresh started so far has finished (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #fill<T>(slot: ReadThroughSlot<T>, compute: () => T | Promise<T>, lock: ResolvedLock | null, generation: string | null): Promise<T> {
    if (!lock) return this.#computeAndWrite(slot, compute, generation);
    const lockKey = this.#keys.lock(slot.key);
    let token = await this.#lock.tryAcquire(lockKey, lock.ttlMs);
    // A failed SET NX while Redis is down is not another owner: waiting would only add latency.
    if (token === null && this.#isBackendDown()) return this.#computeAndWrite(slot, compute, generation);
    if (token === null) {
      this.stats.lockWaits++;
      const deadline = Date.now() + lock.waitMs;
      while (token === null && Date.now() < deadline) {
        await sleep(Math.min(lock.pollMs, Math.max(1, deadline - Date.now())));
        const seen = await slot.read();
        if (seen.hit && !seen.hit.isStale) return seen.hit.value;
        generation = seen.generation;
        // The owner may have failed and released the lock without a value: take over.
        token = await this.#lock.tryAcquire(lockKey, lock.ttlMs);
      }
      if (token === null) {
        this.stats.lockWaitTimeouts++;
        return this.#computeAndWrite(slot, compute, generation);
      }
    }
    this.stats.locksAcquired++;
    try {
      // The previous owner may have written and released between our last read and our SET NX.
      const again = await slot.read();
      if (again.hit && !again.hit.isStale) return again.hit.value;
      return await this.#computeAndWrite(slot, compute, again.generation);
    } finally {
      await this.#lock.release(lockKey, token);
    }
  }

  #isBackendDown(): boolean {
    return this.#cache.status !== 'healthy' && !this.#cache.isFallback;
  }

  async #computeAndWrite<T>(slot: ReadThroughSlot<T>, compute: () => T | Promise<T>, generation: string | null): Promise<T> {
    this.stats.computes++;
    let value: T;
    try {
      value = await slot.prepare(await compute());
    } catch (error) {
      this.stats.computeFailures++;
      throw error;
    }
    // A failed write is reported by the cache; the caller still gets the value it waited for.
    await slot.write(value, generation);
    return value;
  }

  #refreshInBackground<T>(id: string, slot: ReadThroughSlot<T>, compute: () => T | Promise<T>, lock: ResolvedLock | null, generation: string | null): void {
    if (this.#refreshing.has(id)) return;
    this.stats.refreshes++;
    const refresh = this.#refreshing.run(id, async () => {
      let token: string | null = null;
      const lockKey = this.#keys.lock(slot.key);
      if (lock) {
        token = await this.#lock.tryAcquire(lockKey, lock.ttlMs);
        // Another process refreshes it; everyone keeps serving the stale value meanwhile.
        if (token === null && !this.#isBackendDown()) return;
      }
      try {
        await this.#computeAndWrite(slot, compute, generation);
      } catch (error) {
        this.#report({
          error: toCacheError(error, 'E_COMPUTE', `refreshing the stale value of ${slot.key.key} failed (the stale value is served until its grace period ends)`),
          operation: 'refresh',
          kind: slot.key.kind,
          key: slot.key.key,
        });
      } finally {
        if (token !== null) await this.#lock.release(lockKey, token);
      }
    });
    this.#pending.add(refresh);
    void refresh.finally(() => this.#pending.delete(refresh));
  }
}
