import type { Cache, CacheErrorEvent } from '../src/index.js';

/** Collects every `error` event `cache` emits from now on, for tests to assert on. */
export function errorsOf(cache: Cache): CacheErrorEvent[] {
  const events: CacheErrorEvent[] = [];
  cache.on('error', (e) => events.push(e));
  return events;
}
