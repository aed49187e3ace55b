import { createCache, type Cache, type CreateCacheOptions } from '@finrisk/cache-core';
import { redisSentinel, topologies, uniquePrefix } from '@finrisk/test-utils';
import { untilL1Serves, useDeployment } from '@finrisk/test-utils/fixtures';
import { describe, expect, it } from 'vitest';
import { createMlCache } from './ml-cache.js';

// With the cache's L1 tier on, a hot prediction read (token and prediction both in L1) makes no
// round trip, and a model deploy by another process is still seen at once.
describe.each([...topologies, redisSentinel])('cache-ml with the L1 tier on Redis ($name)', (topology) => {
  const fixture = useDeployment(topology);
  let prefix: string;

  async function make(l1Mb: number): Promise<Cache> {
    const cache = fixture.track(createCache({ ...fixture.deployment.connection, backend: 'redis', keyPrefix: prefix, commandTimeoutMs: 5000, envFile: false, env: {}, l1: { maxMb: l1Mb } } as CreateCacheOptions));
    await cache.connect();
    return l1Mb > 0 ? untilL1Serves(cache) : cache;
  }
  const reads = () => fixture.deployment.calls('mget') + fixture.deployment.calls('get');

  it('answers hot predictions from memory, and sees a deploy by another process once it reached L1', async () => {
    prefix = uniquePrefix('mll1');
    const reader = createMlCache(await make(16));
    const writer = createMlCache(await make(0));
    expect(await writer.cachePredictionsMany(['C1', 'C2'].map((customerId) => ({ customerId, modelType: 'credit', prediction: { s: customerId } })))).toBe(true);
    await reader.cache.syncLocal();
    expect(await reader.getCachedPrediction('C1', 'credit')).toEqual({ s: 'C1' }); // fills L1: token and prediction
    expect(await reader.getCachedPredictions(['C1', 'C2'], 'credit')).toEqual([{ s: 'C1' }, { s: 'C2' }]);
    const before = reads();
    for (let i = 0; i < 20; i++) {
      expect(await reader.getCachedPrediction('C1', 'credit')).toEqual({ s: 'C1' });
      expect((await reader.getCachedPredictionEntry('C2', 'credit'))?.value).toEqual({ s: 'C2' });
    }
    expect(await reader.getCachedPredictions(['C1', 'C2'], 'credit')).toEqual([{ s: 'C1' }, { s: 'C2' }]);
    expect(reads()).toBe(before);
    expect(reader.cache.processStats().byKind.prediction).toMatchObject({ misses: 0 });

    // A deploy elsewhere: a new token. Once its invalidation reached the reader, no old prediction is served.
    expect(await writer.invalidateModelPredictions('credit')).toBe(true);
    await reader.cache.syncLocal();
    expect(await reader.getCachedPrediction('C1', 'credit')).toBeNull();
    expect(await reader.getCachedPredictions(['C1', 'C2'], 'credit')).toEqual([null, null]);
    // New predictions under the new token are read, and then held again.
    expect(await writer.cacheModelPrediction('C1', 'credit', { s: 'new' })).toBe(true);
    await reader.cache.syncLocal();
    expect(await reader.getCachedPrediction('C1', 'credit')).toEqual({ s: 'new' });
    const again = reads();
    expect(await reader.getCachedPrediction('C1', 'credit')).toEqual({ s: 'new' });
    expect(reads()).toBe(again);
  });

  it('a deleted or flushed token is not served from L1 either', async () => {
    prefix = uniquePrefix('mll1');
    const reader = createMlCache(await make(16));
    const writer = createMlCache(await make(0));
    expect(await writer.cacheModelPrediction('C9', 'fraud', { s: 1 })).toBe(true);
    await reader.cache.syncLocal();
    await reader.getCachedPrediction('C9', 'fraud');
    expect(await reader.getCachedPrediction('C9', 'fraud')).toEqual({ s: 1 });
    fixture.deployment.cli('DEL', writer.keys.generation('fraud').key);
    await reader.cache.syncLocal();
    expect(await reader.getCachedPrediction('C9', 'fraud')).toBeNull();
  });
});
