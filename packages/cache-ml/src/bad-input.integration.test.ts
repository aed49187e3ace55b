import { randomBytes } from 'node:crypto';
import type { Cache } from '@finrisk/cache-core';
import { topologies } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlCache, type MlCache } from './ml-cache.js';
import { startTestRedis, type TestRedis } from './test-redis.js';

describe.each(topologies)('bad input on Redis ($name)', (topology) => {
  let redis: TestRedis;
  let cache: Cache;
  let ml: MlCache;
  const code = (c: string) => expect.objectContaining({ code: c });

  const allKeys = () => redis.deployment.keys('*');

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    cache = redis.cache({ keyPrefix: 'bad', maxValueBytes: 64 * 1024 });
    ml = createMlCache(cache);
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('refuses an empty id before any command reaches the server', async () => {
    const before = redis.calls('set') + redis.calls('mget');
    await expect(ml.cacheModelPrediction('', 'credit', { s: 1 })).rejects.toThrow(code('E_INVALID_KEY'));
    await expect(ml.getCachedPrediction('CUST', '')).rejects.toThrow(code('E_INVALID_KEY'));
    await expect(ml.cacheFeatures('', { a: 1 })).rejects.toThrow(code('E_INVALID_KEY'));
    await expect(ml.clearPredictionCache('')).rejects.toThrow(code('E_INVALID_KEY'));
    await expect(ml.cacheModelArtifacts('', 'v1', {})).rejects.toThrow(code('E_INVALID_KEY'));
    expect(redis.calls('set') + redis.calls('mget')).toBe(before);
  });

  const odd = ['*', 'CUST?', 'CUST[1]', 'a:b', 'with space', '客户 ü 🚀', '%3A'];

  it.each(odd)('round-trips a customer id %j exactly, under its own key', async (id) => {
    await ml.cacheModelPrediction(id, 'credit', { id });
    await ml.cacheFeatures(id, { id });
    expect(await ml.getCachedPrediction(id, 'credit')).toEqual({ id });
    expect(await ml.getCachedFeatures(id)).toEqual({ id });
  });

  it('clearing one odd id never touches another customer', async () => {
    await ml.cacheModelPrediction('CUST', 'credit', { id: 'CUST' });
    await ml.cacheModelPrediction('CUST1', 'credit', { id: 'CUST1' });
    for (const id of odd) {
      const before = allKeys();
      const deleted = await ml.clearPredictionCache(id);
      const after = allKeys();
      expect(deleted).toEqual({ count: 1, complete: true });
      const gone = before.filter((k) => !after.includes(k));
      expect(gone).toEqual([ml.keys.prediction(id, 'credit').key]);
      expect(await ml.clearFeatureCache(id)).toEqual({ count: 1, complete: true });
    }
    expect(await ml.getCachedPredictions(['CUST', 'CUST1'], 'credit')).toEqual([{ id: 'CUST' }, { id: 'CUST1' }]);
  });

  it('refuses a prediction that is not an object and writes nothing', async () => {
    const before = allKeys();
    for (const bad of [[1, 2], 'approve', 0.75, true, new Date()]) {
      await expect(ml.cacheModelPrediction('C', 'credit', bad as never)).rejects.toThrow(code('E_INVALID_VALUE'));
    }
    expect(allKeys()).toEqual(before);
  });

  it('features with NaN round-trip exactly in the finrisk layout', async () => {
    await ml.cacheFeatures('NAN', { debt_to_income: Number.NaN, income: 75000 });
    const back = await ml.getCachedFeatures<{ debt_to_income: number; income: number }>('NAN');
    expect(Number.isNaN(back?.debt_to_income)).toBe(true);
    expect(back?.income).toBe(75000);
  });

  it('refuses a payload over maxValueBytes with E_PAYLOAD_TOO_LARGE and writes nothing', async () => {
    const noise = randomBytes(100 * 1024); // random bytes do not compress under the limit
    await expect(ml.cacheModelArtifacts('big', 'v1', { blob: new Uint8Array(noise) })).rejects.toThrow(code('E_PAYLOAD_TOO_LARGE'));
    expect(redis.cli('EXISTS', ml.keys.artifact('big', 'v1').key)).toBe('0');
  });
});
