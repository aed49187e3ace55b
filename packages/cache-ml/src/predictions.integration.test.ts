import { getCache, resetCache, type Cache } from '@finrisk/cache-core';
import { redisSentinel, topologies } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from './index.js';
import { createMlCache, type MlCache } from './ml-cache.js';
import { startTestRedis, type TestRedis } from './test-redis.js';

// The whole flow on one server, a cluster and (once, it takes ~8 s to start) a sentinel group.
/**
 * Checks that `key` has `ttlMs` left less at most the time since `start` (taken before the write):
 * the bound holds on a fast machine (nothing elapsed) and a slow one alike.
 */
function expectTtlSince(redis: TestRedis, key: string, ttlMs: number, start: number): void {
  const left = Number(redis.cli('PTTL', key));
  expect(left, key).toBeLessThanOrEqual(ttlMs);
  expect(left, key).toBeGreaterThanOrEqual(ttlMs - (Date.now() - start));
}

describe.each([...topologies, redisSentinel])('predictions on Redis ($name)', (topology) => {
  let redis: TestRedis;
  let cache: Cache;
  let ml: MlCache;

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    cache = redis.cache();
    ml = createMlCache(cache);
  });
  afterAll(async () => {
    await resetCache();
    await redis.stop();
  });

  it('caches with the configured TTL (3600 s), checked on the server', async () => {
    const start = Date.now();
    expect(await ml.cacheModelPrediction('CUST001', 'credit', { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' })).toBe(true);
    expectTtlSince(redis, ml.keys.prediction('CUST001', 'credit').key, 3_600_000, start);
    expect(await ml.getCachedPrediction('CUST001', 'credit')).toMatchObject({ risk_score: 0.75, decision: 'approve' });
    expect((await ml.getCachedPredictionEntry('CUST001', 'credit'))?.modelVersion).toBe('v1.2.0');
  });

  it('honours an explicit ttl and ttl: null', async () => {
    const start = Date.now();
    await ml.cacheModelPrediction('C-ttl', 'credit', { s: 1 }, { ttl: 120 });
    expectTtlSince(redis, ml.keys.prediction('C-ttl', 'credit').key, 120_000, start);
    await ml.cacheModelPrediction('C-forever', 'credit', { s: 1 }, { ttl: null });
    expect(redis.cli('PTTL', ml.keys.prediction('C-forever', 'credit').key)).toBe('-1');
  });

  it('stores physical TTL = ttl + grace', async () => {
    const graceful = createMlCache(cache, { grace: 300 });
    const start = Date.now();
    await graceful.cacheFeatures('C-grace', { a: 1 }, { ttl: 60 });
    expectTtlSince(redis, graceful.keys.feature('C-grace').key, 360_000, start);
  });

  it('reads 200 predictions in one round trip: one MGET (one per hash slot on a cluster), no GET', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `B${i}`);
    await ml.cachePredictionsMany(ids.map((customerId, i) => ({ customerId, modelType: 'batch', prediction: { i } })));
    const mget = redis.calls('mget');
    const get = redis.calls('get');
    const reads = redis.stat('total_reads_processed');
    const read = await ml.getCachedPredictions([...ids, 'missing'], 'batch');
    const readsDuring = redis.stat('total_reads_processed') - reads - redis.nodesAsked(); // minus the INFO of this line
    // The generation token is read with the predictions; on a cluster it lives in its own slot.
    const keys = [ml.keys.generation('batch'), ...[...ids, 'missing'].map((id) => ml.keys.prediction(id, 'batch'))];
    expect(redis.calls('mget') - mget).toBe(await redis.mgetsFor(keys));
    expect(redis.calls('get') - get).toBe(0);
    // All MGETs are sent at once: a few socket reads per node, not one per slot waited for in turn
    // (about 200 on a cluster). The count is the server's, so it also holds the pings and acks of
    // sentinels and replicas, which grow with the time the test takes: the bound is half of 200,
    // not a few per node, for a loaded machine (a sentinel run saw 14 against 10).
    expect(readsDuring).toBeLessThan(100);
    expect(read.slice(0, 3)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(read[199]).toEqual({ i: 199 });
    expect(read.at(-1)).toBeNull();
  });

  it('writes 500 predictions as one pipeline: 500 SETs but a handful of socket reads, not 500', async () => {
    await ml.cacheModelPrediction('warm', 'pipe', { s: 0 }); // the generation token is known afterwards
    const sets = redis.calls('set');
    const reads = redis.stat('total_reads_processed');
    const entries = Array.from({ length: 500 }, (_, i) => ({ customerId: `P${i}`, modelType: 'pipe', prediction: { i } }));
    expect(await ml.cachePredictionsMany(entries)).toBe(true);
    const readsDuring = redis.stat('total_reads_processed') - reads - redis.nodesAsked(); // minus the INFO of this line
    expect(redis.calls('set') - sets).toBe(500);
    // One round trip arrives in few socket reads; one await per entry would need at least 500.
    // The server's count also holds the pings and acks of sentinels and replicas, which grow with
    // the time the test takes (loaded runs saw 26 and 31): the bound is half of 500.
    expect(readsDuring).toBeLessThan(250);
    expect(await ml.getCachedPrediction('P499', 'pipe')).toEqual({ i: 499 });
  });

  it('invalidates a model type with one SET, no SCAN or KEYS, while other models stay', async () => {
    await ml.cacheModelPrediction('G1', 'credit2', { s: 1 });
    await ml.cacheModelPrediction('G1', 'fraud2', { s: 2 });
    const scans = redis.calls('scan');
    const keys = redis.calls('keys');
    expect(await ml.invalidateModelPredictions('credit2')).toBe(true);
    expect(redis.calls('scan') - scans).toBe(0);
    expect(redis.calls('keys') - keys).toBe(0);
    expect(await ml.getCachedPrediction('G1', 'credit2')).toBeNull();
    expect(await ml.getCachedPrediction('G1', 'fraud2')).toEqual({ s: 2 });
    expect(redis.cli('PTTL', ml.keys.generation('credit2').key)).toBe('-1');
  });

  it('an invalidation by another process wins over a prediction written with an older token', async () => {
    const replica = createMlCache(redis.cache({ keyPrefix: cache.config.keyPrefix }));
    // A writer that remembers a token for an hour: with the default 1 s, a slow machine could
    // pass the refresh between the lines below and write under the new token.
    const writer = createMlCache(cache, { generationRefreshMs: 3_600_000 });
    await writer.cacheModelPrediction('R1', 'credit3', { s: 1 });
    await replica.invalidateModelPredictions('credit3');
    // `writer` still remembers the old token: its write is a later miss, never a stale hit.
    await writer.cacheModelPrediction('R1', 'credit3', { s: 2 });
    expect(await replica.getCachedPrediction('R1', 'credit3')).toBeNull();
    // A read refreshes the token, so the next write counts.
    await writer.getCachedPrediction('R1', 'credit3');
    await writer.cacheModelPrediction('R1', 'credit3', { s: 3 });
    expect(await replica.getCachedPrediction('R1', 'credit3')).toEqual({ s: 3 });
  });

  it("clears exactly one customer's predictions of every model; '*' is literal", async () => {
    for (const id of ['X', 'X1', '*', 'X:credit']) {
      await ml.cacheModelPrediction(id, 'credit', { id });
      await ml.cacheModelPrediction(id, 'fraud', { id });
    }
    expect(await ml.clearPredictionCache('*')).toEqual({ count: 2, complete: true });
    expect(await ml.clearPredictionCache('X')).toEqual({ count: 2, complete: true });
    expect(await ml.getCachedPrediction('X', 'fraud')).toBeNull();
    expect(await ml.getCachedPredictions(['X1', 'X:credit'], 'credit')).toEqual([{ id: 'X1' }, { id: 'X:credit' }]);
    expect(await ml.getCachedPrediction('X1', 'fraud')).toEqual({ id: 'X1' });
  });

  it('clears every prediction and leaves features and artifacts', async () => {
    const own = createMlCache(redis.cache());
    await own.cacheModelPrediction('A', 'credit', { s: 1 });
    await own.cacheModelPrediction('B', 'fraud', { s: 1 });
    await own.cacheFeatures('A', { f: 1 });
    await own.cacheModelArtifacts('m', 'v1', { w: 1 });
    expect(await own.clearPredictionCache()).toEqual({ count: 2, complete: true });
    expect(await own.getCachedFeatures('A')).toEqual({ f: 1 });
    expect(await own.getCachedModelArtifacts('m', 'v1')).toEqual({ w: 1 });
  });

  it('free functions use getCache()', async () => {
    await resetCache();
    const shared = getCache({ ...redis.deployment.connection, backend: 'redis', keyPrefix: 'freefn', envFile: false, env: {} });
    expect(await api.cacheModelPrediction('CUST001', 'credit', { risk_score: 0.5 })).toBe(true);
    expect(redis.cli('EXISTS', 'freefn:prediction:CUST001:credit')).toBe('1');
    expect(await api.getCachedPrediction('CUST001', 'credit')).toEqual({ risk_score: 0.5 });
    expect(await api.getCachedPredictions(['CUST001', 'nope'], 'credit')).toEqual([{ risk_score: 0.5 }, null]);
    expect(await api.cachePredictionsMany([{ customerId: 'C2', modelType: 'credit', prediction: { r: 1 } }])).toBe(true);
    expect((await api.getCachedPredictionEntry('C2', 'credit'))?.value).toEqual({ r: 1 });
    expect(await api.getOrComputePrediction('C3', 'credit', () => ({ r: 3 }))).toEqual({ r: 3 });
    expect(await api.invalidateModelPredictions('credit')).toBe(true);
    expect(await api.getCachedPrediction('CUST001', 'credit')).toBeNull();
    let start = Date.now();
    expect(await api.cacheFeatures('C1', { age: 35 })).toBe(true);
    expectTtlSince(redis, 'freefn:feature:C1', 1_800_000, start);
    expect(await api.getCachedFeatures('C1')).toEqual({ age: 35 });
    expect((await api.getCachedFeaturesEntry('C1'))?.isStale).toBe(false);
    expect(await api.cacheFeaturesMany([{ customerId: 'C2', features: { age: 2 } }])).toBe(true);
    expect(await api.getCachedFeaturesMany(['C1', 'C2'])).toEqual([{ age: 35 }, { age: 2 }]);
    expect(await api.getOrComputeFeatures('C9', () => ({ age: 9 }))).toEqual({ age: 9 });
    expect(await api.clearFeatureCache('C1')).toEqual({ count: 1, complete: true });
    expect(await api.clearFeatureCache()).toEqual({ count: 2, complete: true });
    start = Date.now();
    expect(await api.cacheModelArtifacts('credit_risk', 'v1.2.0', { feature_names: ['age'] })).toBe(true);
    expectTtlSince(redis, 'freefn:model:credit_risk:v1.2.0', 86_400_000, start);
    expect(await api.getCachedModelArtifacts('credit_risk', 'v1.2.0')).toEqual({ feature_names: ['age'] });
    expect(await api.getOrComputeModelArtifacts('credit_risk', 'v2', () => ({ w: 2 }))).toEqual({ w: 2 });
    expect(await api.clearModelCache('credit_risk')).toEqual({ count: 2, complete: true });
    expect(await api.clearPredictionCache('C3')).toEqual({ count: 1, complete: true });
    expect(await api.clearPredictionCache()).toEqual({ count: 2, complete: true });
    expect(api.getMlCache().cache).toBe(shared);
  });
});
