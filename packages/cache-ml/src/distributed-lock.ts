import { randomUUID } from 'node:crypto';
import type { Cache, CacheKey } from '@finrisk/cache-core';

/**
 * A short lock in Redis (SET NX PX with a random token), released with compare-and-delete so
 * that a process whose lock expired cannot release the next owner's. It only keeps replicas
 * from computing the same value at once; it is not a mutex for correctness.
 */
export class DistributedLock {
  readonly #cache: Cache;

  constructor(cache: Cache) {
    this.#cache = cache;
  }

  /** Takes the lock for `ttlMs`; the token to release it with, or null when another owner holds it (or the backend failed). */
  async tryAcquire(key: CacheKey, ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    return (await this.#cache.setIfAbsent(key, token, { ttl: ttlMs / 1000 })) ? token : null;
  }

  /** Releases the lock if `token` still owns it. */
  async release(key: CacheKey, token: string): Promise<boolean> {
    return this.#cache.deleteIfEquals(key, token);
  }
}
