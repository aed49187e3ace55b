import type { Cache } from '@finrisk/cache-core';
import { topologies } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlCache, type MlCache } from './ml-cache.js';
import { startTestRedis, type TestRedis } from './test-redis.js';

describe.each(topologies)("finrisk-python layout: the Python service's keys and json.dumps bytes ($name)", (topology) => {
  let redis: TestRedis;
  let cache: Cache;
  let py: MlCache;

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    // The environment variable, as a deployment sets it, not the code option.
    cache = redis.cache({ env: { CACHE_KEY_LAYOUT: 'finrisk-python' } });
    py = createMlCache(cache);
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('reads a prediction the Python service wrote (redis-cli, exact json.dumps bytes)', async () => {
    redis.cli('SETEX', 'prediction:credit:CUST001', '3600', '{"risk_score": 0.75, "decision": "approve"}');
    expect(await py.getCachedPrediction('CUST001', 'credit')).toEqual({ risk_score: 0.75, decision: 'approve' });
  });

  it('writes what json.dumps writes, with the configured TTL', async () => {
    // A TTL read later is lower by at most the time since the write began, however slow the machine.
    const expectTtlSince = (key: string, ttlMs: number, start: number) => {
      const left = Number(redis.cli('PTTL', key));
      expect(left, key).toBeLessThanOrEqual(ttlMs);
      expect(left, key).toBeGreaterThanOrEqual(ttlMs - (Date.now() - start));
    };
    let start = Date.now();
    await py.cacheModelPrediction('CUST002', 'fraud', { fraud_probability: 0.15, risk_level: 'low', confidence: 0.88 });
    expect(redis.cli('GET', 'prediction:fraud:CUST002')).toBe('{"fraud_probability": 0.15, "risk_level": "low", "confidence": 0.88}');
    expectTtlSince('prediction:fraud:CUST002', 3_600_000, start);
    start = Date.now();
    await py.cacheFeatures('CUST002', { age: 35, income: 75000, name: 'Zoë', tags: ['a', null], ok: true });
    expect(redis.cli('GET', 'features:CUST002')).toBe('{"age": 35, "income": 75000, "name": "Zo\\u00eb", "tags": ["a", null], "ok": true}');
    expectTtlSince('features:CUST002', 1_800_000, start);
  });

  it('features: reads Python bytes (75000.0, \\u escapes) as the same values', async () => {
    redis.cli('SET', 'features:CUST003', '{"age": 35, "income": 75000.0, "city": "M\\u00fcnchen", "debt_to_income": 0.25}');
    expect(await py.getCachedFeatures('CUST003')).toEqual({ age: 35, income: 75000, city: 'München', debt_to_income: 0.25 });
  });

  it('NaN and Infinity round-trip as Python writes them (bare words, as json.dumps with allow_nan)', async () => {
    redis.cli('SET', 'features:CUST005', '{"debt_to_income": NaN, "cap": -Infinity}');
    expect(await py.getCachedFeatures('CUST005')).toEqual({ debt_to_income: Number.NaN, cap: -Infinity });
    await py.cacheFeatures('CUST004', { debt_to_income: Number.NaN, cap: Infinity });
    expect(redis.cli('GET', 'features:CUST004')).toBe('{"debt_to_income": NaN, "cap": Infinity}');
    expect(await py.getCachedFeatures('CUST004')).toEqual({ debt_to_income: Number.NaN, cap: Infinity });
  });

  it('batch reads and writes use the same keys', async () => {
    await py.cacheFeaturesMany([{ customerId: 'B1', features: { x: 1 } }, { customerId: 'B2', features: { x: 2 } }]);
    expect(redis.cli('GET', 'features:B2')).toBe('{"x": 2}');
    expect(await py.getCachedFeaturesMany(['B1', 'B3', 'B2'])).toEqual([{ x: 1 }, null, { x: 2 }]);
    await py.cachePredictionsMany([{ customerId: 'B1', modelType: 'credit', prediction: { s: 0.5 }, modelVersion: 'v3' }]);
    expect(redis.cli('GET', 'prediction:credit:B1')).toBe('{"s": 0.5, "model_version": "v3"}');
    expect(await py.getCachedPredictions(['B1', 'CUST001'], 'credit')).toEqual([{ s: 0.5, model_version: 'v3' }, { risk_score: 0.75, decision: 'approve' }]);
    expect(await py.getCachedPrediction('B1', 'credit', { modelVersion: 'v2' })).toBeNull();
  });

  it('refuses what plain JSON cannot carry, and a model type with ":"', async () => {
    await expect(py.cacheFeatures('C', { when: new Map() })).rejects.toThrow(expect.objectContaining({ code: 'E_INVALID_VALUE' }));
    await expect(py.cacheModelPrediction('C', 'credit:v2', { s: 1 })).rejects.toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
    expect(() => createMlCache(cache, { grace: 10 })).toThrow(expect.objectContaining({ code: 'E_INVALID_CONFIG' }));
  });

  it('a value the Python side wrote that is not a JSON object is a miss and an error event', async () => {
    const events: string[] = [];
    const off = py.on('error', (e) => events.push(e.error.code));
    redis.cli('SET', 'prediction:credit:ODD', '[1, 2]');
    expect(await py.getCachedPrediction('ODD', 'credit')).toBeNull();
    expect(events).toEqual(['E_PAYLOAD_CORRUPT']);
    off();
  });

  it("clears exactly one customer's predictions (ids with ':' and '*' stay literal)", async () => {
    for (const [model, id] of [['credit', 'K1'], ['fraud', 'K1'], ['credit', 'K10'], ['credit', 'x:K1'], ['credit', '*']]) {
      redis.cli('SET', `prediction:${model}:${id}`, '{"s": 1}');
    }
    expect(await py.clearPredictionCache('K1', { dryRun: true })).toEqual({ count: 2, complete: true });
    expect(redis.cli('EXISTS', 'prediction:credit:K1')).toBe('1');
    expect(await py.clearPredictionCache('K1')).toEqual({ count: 2, complete: true });
    expect(redis.deployment.exists('prediction:credit:K10', 'prediction:credit:x:K1', 'prediction:credit:*')).toBe(3);
    expect(await py.clearPredictionCache('*')).toEqual({ count: 1, complete: true });
    expect(redis.cli('EXISTS', 'prediction:credit:K10')).toBe('1');
  });

  it('invalidating a model deletes prediction:{model}:* (the Python side knows no generations)', async () => {
    redis.cli('SET', 'prediction:scorecard:A', '{"s": 1}');
    redis.cli('SET', 'prediction:scorecard:B', '{"s": 1}');
    redis.cli('SET', 'prediction:scorecard2:A', '{"s": 1}');
    expect(await py.invalidateModelPredictions('scorecard')).toBe(true);
    expect(redis.deployment.exists('prediction:scorecard:A', 'prediction:scorecard:B')).toBe(0);
    expect(redis.cli('EXISTS', 'prediction:scorecard2:A')).toBe('1');
  });

  it('read-through works in the Python layout', async () => {
    expect(await py.getOrComputePrediction('RT', 'credit', () => ({ s: 0.25 }))).toEqual({ s: 0.25 });
    expect(redis.cli('GET', 'prediction:credit:RT')).toBe('{"s": 0.25}');
  });

  it('clears features of one customer and of all', async () => {
    expect(await py.clearFeatureCache('B1')).toEqual({ count: 1, complete: true });
    expect(redis.cli('EXISTS', 'features:B1')).toBe('0');
    // Left by the tests above: CUST002, CUST003, CUST004, CUST005 and B2.
    expect(await py.clearFeatureCache()).toEqual({ count: 5, complete: true });
    expect(redis.deployment.keys('features:*')).toEqual([]);
  });

  it('an explicit keyLayout option wins over the environment', async () => {
    const own = createMlCache(cache, { keyLayout: 'finrisk' });
    await own.cacheFeatures('OWN', { a: 1 });
    expect(redis.cli('EXISTS', 'features:OWN')).toBe('0');
    expect(redis.cli('EXISTS', `${cache.config.keyPrefix}:feature:OWN`)).toBe('1');
  });
});
