import type { Cache } from '@finrisk/cache-core';
import type { ProgressBar } from './output/progress-bar.js';

/** Keys and bytes of one kind of entry. */
export interface KindUsage {
  /** `prediction`, `feature`, `dataframe`, ... (the part of the key after the prefix). */
  kind: string;
  keys: number;
  /** Bytes per MEMORY USAGE on Redis (key and overhead included), the value's length elsewhere. */
  bytes: number;
}

/**
 * Counts keys and bytes per kind under the cache's prefix with SCAN (never KEYS), measuring each
 * key with MEMORY USAGE on Redis or the stored value's length on the embedded store.
 */
export async function measureKeyUsage(cache: Cache, progress: ProgressBar, totalHint: number): Promise<KindUsage[]> {
  const start = `${cache.config.keyPrefix}:`;
  const client = await cache.getRedisClient();
  const store = cache.store;
  const byKind = new Map<string, KindUsage>();
  let seen = 0;
  for await (const keys of cache.scan({ kind: 'stats', prefix: start })) {
    const sizes = await Promise.all(
      keys.map(async (key) => {
        if (client) return Number((await client.memoryUsage(key)) ?? 0);
        const value = await store?.get(key);
        return value ? value.byteLength : 0;
      }),
    );
    keys.forEach((key, i) => {
      const kind = key.slice(start.length).split(':')[0] || '(none)';
      let usage = byKind.get(kind);
      if (!usage) byKind.set(kind, (usage = { kind, keys: 0, bytes: 0 }));
      usage.keys++;
      usage.bytes += sizes[i] ?? 0;
    });
    seen += keys.length;
    progress.update(seen, Math.max(totalHint, seen));
  }
  progress.done();
  return [...byKind.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}
