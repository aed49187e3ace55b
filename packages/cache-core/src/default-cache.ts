import { Cache, type ConnectionCheck, type CreateCacheOptions } from './cache.js';
import type { CacheStats } from './stats.js';
import type { RedisClient } from './stores/redis-store.js';

let shared: Cache | undefined;

/**
 * The process-wide cache, configured from the environment (and `.env`) on first call and
 * connected lazily on first use. Options are used only by the call that creates it.
 */
export function getCache(options?: CreateCacheOptions): Cache {
  shared ??= new Cache(options);
  return shared;
}

/** Closes the process-wide cache, so that the next {@link getCache} makes a new one (tests, reconfiguration). */
export async function resetCache(): Promise<void> {
  const cache = shared;
  shared = undefined;
  await cache?.close();
}

/** The node-redis client behind the process-wide cache; null when its backend is not Redis. */
export function getRedisClient(): Promise<RedisClient | null> {
  return getCache().getRedisClient();
}

/** Statistics of the process-wide cache (the guide's `get_cache_stats`). */
export function getCacheStats(): Promise<CacheStats> {
  return getCache().stats();
}

/** Whether the process-wide cache's backend answers (the CLI's `check`). */
export function checkConnection(): Promise<ConnectionCheck> {
  return getCache().checkConnection();
}
