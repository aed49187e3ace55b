import { topologies, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from './cache.js';

// Cache.watchPrefix (key-watch.ts): L1's tracking on a prefix of its own, with L1 off.
describe.each(topologies)('watchPrefix on Redis ($name)', (topology) => {
  let deployment: RedisDeployment;
  const open: Cache[] = [];

  beforeAll(async () => {
    deployment = await topology.start();
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await deployment.stop();
  });

  function make(prefix: string, options: CreateCacheOptions = {}): Cache {
    const cache = createCache({ ...deployment.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, commandTimeoutMs: 2000, statsPublish: false, ...options } as CreateCacheOptions);
    open.push(cache);
    return cache;
  }

  it('hears a change under the prefix made by another client, and only under it, with L1 off', async () => {
    const prefix = uniquePrefix('watch');
    const cache = make(prefix);
    const other = make(prefix);
    const changed: (string | null)[] = [];
    const watched = cache.keys.key('generation', 'prediction', 'credit');
    const watch = cache.watchPrefix({ kind: 'generation', prefix: cache.keys.prefixOf('generation', 'prediction') }, (key) => changed.push(key));
    expect(watch.isUp).toBe(false); // the store is not known before the first use
    await cache.connect();
    await vi.waitFor(() => expect(watch.isUp).toBe(true), { timeout: 10_000 });
    const epoch = watch.epoch;
    // A write outside the prefix: nothing heard (sync: every push sent before it has arrived).
    expect(await other.set(other.keys.key('prediction', 'C1', 'credit'), { s: 1 })).toBe(true);
    expect(await watch.sync()).toBe(true);
    expect(watch.epoch).toBe(epoch);
    expect(await other.set(watched, 'token-1', { ttl: null })).toBe(true);
    expect(await watch.sync()).toBe(true);
    expect(watch.epoch).toBeGreaterThan(epoch);
    expect(changed).toContain(watched.key);
    // FLUSHALL: every key may have changed.
    changed.length = 0;
    for (const master of deployment.masters()) master.cli('FLUSHALL');
    expect(await watch.sync()).toBe(true);
    expect(changed).toContain(null);
    watch.close();
    expect(watch.isUp).toBe(false);
    expect(await watch.sync()).toBe(false);
  });
});

describe('watchPrefix where Redis cannot track', () => {
  it('the memory store: never up, sync answers false', async () => {
    const cache = createCache({ backend: 'memory', envFile: false, env: {} });
    try {
      const watch = cache.watchPrefix({ kind: 'generation', prefix: cache.keys.prefixOf('generation') });
      await cache.set(cache.keys.key('generation', 'x'), 1);
      expect(watch.isUp).toBe(false);
      expect(await watch.sync()).toBe(false);
    } finally {
      await cache.close();
    }
  });
});
