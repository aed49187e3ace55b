import { FinRiskCacheError, type Cache, type CacheKey } from '@finrisk/cache-core';
import { timerMs } from './frame-options.js';

// CORE GAP (issue 22). @finrisk/cache-core offers no way to take a key's time to live away
// (Redis PERSIST): `expire` takes a positive TTL only. A table cached with `ttl: null` needs it:
// its chunks carry the staging TTL until its manifest commits, and none after. Until core has
// `persist` (asked for in the report of this change), this file does it on its own:
// - on Redis (single node, cluster, sentinel), node-redis's PERSIST on the cache's own client,
//   under a deadline of its own, since the client has none for commands already written;
// - on the memory and local stores, by reading each value and writing it back without a TTL
//   (in process: nothing else can change them between the two, but another process on the same
//   SQLite file could).
// Replace it with core's call once there is one; nothing else in the package reaches the client.

/**
 * Takes the time to live away from `keys` (all sent at once; a key that does not exist stays
 * absent). Rejects with E_TIMEOUT after `timeoutMs`, or with the backend's error.
 */
export async function persistKeys(cache: Cache, keys: readonly CacheKey[], timeoutMs: number): Promise<void> {
  if (keys.length === 0) return;
  const client = await cache.getRedisClient();
  if (client) {
    const all = Promise.all(keys.map((k) => client.persist(k.key)));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FinRiskCacheError('E_TIMEOUT', `Redis did not answer PERSIST of ${keys.length} keys within ${timeoutMs} ms`)), timerMs(timeoutMs));
    });
    try {
      await Promise.race([all, deadline]);
    } catch (error) {
      void all.catch(() => undefined);
      throw FinRiskCacheError.isInstance(error) ? error : new FinRiskCacheError('E_REDIS_COMMAND', `PERSIST failed: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    return;
  }
  const values = await cache.getMany(keys, { throwOnFailure: true });
  const present = keys.flatMap((key, i) => (values[i] === null || values[i] === undefined ? [] : [{ key, value: values[i], ttl: null, compress: false }]));
  if (present.length > 0 && !(await cache.setMany(present))) {
    throw new FinRiskCacheError('E_LOCAL_STORE', `could not write ${present.length} keys back without a time to live`);
  }
}
