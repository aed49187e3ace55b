import { createCache, FinRiskCacheError, type Cache } from '@finrisk/cache-core';
import * as v from 'valibot';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { registerArtifactClass } from './artifact-classes.js';
import { createMlCache, type MlCache } from './ml-cache.js';
import type { MlCacheErrorEvent } from './options.js';

const code = (c: string) => expect.objectContaining({ code: c });

let cache: Cache;
let ml: MlCache;
let events: MlCacheErrorEvent[];

beforeEach(() => {
  cache = createCache({ backend: 'memory', envFile: false, env: {} });
  ml = createMlCache(cache);
  events = [];
  ml.on('error', (e) => events.push(e));
});

afterEach(async () => {
  vi.useRealTimers();
  await ml.drain();
  await cache.close();
});

describe('predictions', () => {
  it('round-trips a prediction and keeps its model version', async () => {
    const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
    expect(await ml.cacheModelPrediction('CUST001', 'credit', prediction)).toBe(true);
    expect(await ml.getCachedPrediction('CUST001', 'credit')).toEqual(prediction);
    const entry = await ml.getCachedPredictionEntry('CUST001', 'credit');
    expect(entry?.modelVersion).toBe('v1.2.0');
    expect(entry?.isStale).toBe(false);
    expect(entry?.cachedAt).toBeInstanceOf(Date);
    expect(await ml.getCachedPrediction('CUST001', 'fraud')).toBeNull();
    expect(await ml.getCachedPrediction('CUST002', 'credit')).toBeNull();
  });

  it('filters by model version when asked', async () => {
    await ml.cacheModelPrediction('C1', 'credit', { risk_score: 0.1 }, { modelVersion: 'v2' });
    expect(await ml.getCachedPrediction('C1', 'credit', { modelVersion: 'v2' })).toEqual({ risk_score: 0.1 });
    expect(await ml.getCachedPrediction('C1', 'credit', { modelVersion: 'v1' })).toBeNull();
  });

  it.each([
    ['an array', [0.75]],
    ['a string', 'approve'],
    ['a number', 0.75],
    ['null', null],
    ['a Map', new Map([['risk_score', 0.75]])],
  ])('refuses a prediction that is %s with E_INVALID_VALUE', async (_what, prediction) => {
    await expect(ml.cacheModelPrediction('C1', 'credit', prediction as never)).rejects.toThrow(code('E_INVALID_VALUE'));
    expect(await cache.countByPrefix(ml.keys.predictionPrefix())).toEqual({ count: 0, complete: true });
  });

  it('invalidates every prediction of one model type without touching others', async () => {
    await ml.cacheModelPrediction('C1', 'credit', { s: 1 });
    await ml.cacheModelPrediction('C2', 'credit', { s: 2 });
    await ml.cacheModelPrediction('C1', 'fraud', { s: 3 });
    expect(await ml.invalidateModelPredictions('credit')).toBe(true);
    expect(await ml.getCachedPredictions(['C1', 'C2'], 'credit')).toEqual([null, null]);
    expect(await ml.getCachedPrediction('C1', 'fraud')).toEqual({ s: 3 });
    await ml.cacheModelPrediction('C1', 'credit', { s: 4 });
    expect(await ml.getCachedPrediction('C1', 'credit')).toEqual({ s: 4 });
  });

  it('sees an invalidation made by another MlCache on the same store at once', async () => {
    const other = createMlCache(cache);
    await ml.cacheModelPrediction('C1', 'credit', { s: 1 });
    await other.invalidateModelPredictions('credit');
    expect(await ml.getCachedPrediction('C1', 'credit')).toBeNull();
  });

  it('batch reads keep the order of the ids and answer null for misses', async () => {
    expect(await ml.cachePredictionsMany([
      { customerId: 'A', modelType: 'credit', prediction: { s: 1 } },
      { customerId: 'C', modelType: 'credit', prediction: { s: 3 } },
      { customerId: 'A', modelType: 'fraud', prediction: { s: 9 } },
    ])).toBe(true);
    expect(await ml.getCachedPredictions(['C', 'B', 'A'], 'credit')).toEqual([{ s: 3 }, null, { s: 1 }]);
    expect(await ml.getCachedPredictions([], 'credit')).toEqual([]);
  });

  it('validates every batch entry before writing any', async () => {
    await expect(
      ml.cachePredictionsMany([
        { customerId: 'A', modelType: 'credit', prediction: { s: 1 } },
        { customerId: '', modelType: 'credit', prediction: { s: 2 } },
      ]),
    ).rejects.toThrow(code('E_INVALID_KEY'));
    expect(await ml.getCachedPrediction('A', 'credit')).toBeNull();
  });

  it('clears exactly one customer, and "*" is only the customer named "*"', async () => {
    for (const id of ['*', 'CUST001', 'CUST0011', 'CUST001:x']) await ml.cacheModelPrediction(id, 'credit', { id });
    await ml.cacheModelPrediction('CUST001', 'fraud', { id: 'f' });
    expect(await ml.clearPredictionCache('*')).toEqual({ count: 1, complete: true });
    expect(await ml.getCachedPrediction('CUST001', 'credit')).toEqual({ id: 'CUST001' });
    expect(await ml.clearPredictionCache('CUST001')).toEqual({ count: 2, complete: true });
    expect(await ml.getCachedPredictions(['CUST001', 'CUST0011', 'CUST001:x'], 'credit')).toEqual([null, { id: 'CUST0011' }, { id: 'CUST001:x' }]);
    expect(await ml.clearPredictionCache()).toEqual({ count: 2, complete: true });
  });

  it('counts what a clear would delete with dryRun, and deletes nothing', async () => {
    for (const id of ['CUST001', 'CUST0011']) await ml.cacheModelPrediction(id, 'credit', { id });
    await ml.cacheFeatures('CUST001', { x: 1 });
    await ml.cacheModelArtifacts('credit', 'v1', { a: 1 });
    expect(await ml.clearPredictionCache('CUST001', { dryRun: true })).toEqual({ count: 1, complete: true });
    expect(await ml.clearPredictionCache(undefined, { dryRun: true })).toEqual({ count: 2, complete: true });
    expect(await ml.clearFeatureCache('CUST001', { dryRun: true })).toEqual({ count: 1, complete: true });
    expect(await ml.clearFeatureCache('NOBODY', { dryRun: true })).toEqual({ count: 0, complete: true });
    expect(await ml.clearModelCache(undefined, { dryRun: true })).toEqual({ count: 1, complete: true });
    expect(await ml.getCachedPrediction('CUST001', 'credit')).toEqual({ id: 'CUST001' });
    expect(await ml.getCachedFeatures('CUST001')).toEqual({ x: 1 });
    expect(await ml.getCachedModelArtifacts('credit', 'v1')).toEqual({ a: 1 });
  });
});

describe('schemas', () => {
  const zodPrediction = z.object({ risk_score: z.number().min(0).max(1), decision: z.enum(['approve', 'decline']) });
  const valibotFeatures = v.object({ age: v.number(), income: v.number() });

  it('zod: refuses a bad prediction on write with E_SCHEMA', async () => {
    const typed = createMlCache(cache, { predictionSchema: zodPrediction });
    await expect(typed.cacheModelPrediction('C1', 'credit', { risk_score: 2, decision: 'approve' })).rejects.toThrow(code('E_SCHEMA'));
    expect(await typed.cacheModelPrediction('C1', 'credit', { risk_score: 0.5, decision: 'approve' })).toBe(true);
    const read = await typed.getCachedPrediction('C1', 'credit');
    expect(read?.decision).toBe('approve');
  });

  it('zod: a cached value that fails the schema is a miss and an error event', async () => {
    await ml.cacheModelPrediction('C1', 'credit', { risk_score: 'high' });
    const typed = createMlCache(cache, { predictionSchema: zodPrediction });
    const seen: MlCacheErrorEvent[] = [];
    typed.on('error', (e) => seen.push(e));
    const atCache: string[] = [];
    const off = cache.on('error', (e) => atCache.push(e.error.code));
    expect(await typed.getCachedPrediction('C1', 'credit')).toBeNull();
    off();
    expect(seen).toHaveLength(1);
    // the cache's own listeners (services, metrics) hear it too
    expect(atCache).toEqual(['E_SCHEMA']);
    expect(seen[0]?.error.code).toBe('E_SCHEMA');
    expect(seen[0]?.key).toBe(ml.keys.prediction('C1', 'credit').key);
  });

  it('valibot: checks features on write and on read, per call', async () => {
    await expect(ml.cacheFeatures('C1', { age: 'old', income: 1 }, { schema: valibotFeatures as never })).rejects.toThrow(code('E_SCHEMA'));
    await ml.cacheFeatures('C1', { age: 'old', income: 1 });
    expect(await ml.getCachedFeatures('C1', { schema: valibotFeatures })).toBeNull();
    expect(events.map((e) => e.error.code)).toEqual(['E_SCHEMA']);
    await ml.cacheFeatures('C2', { age: 35, income: 75000 }, { schema: valibotFeatures });
    const features = await ml.getCachedFeatures('C2', { schema: valibotFeatures });
    expect(features?.income).toBe(75000);
  });

  it('checks a computed value: E_SCHEMA reaches the caller and nothing is cached', async () => {
    const typed = createMlCache(cache, { predictionSchema: zodPrediction });
    await expect(typed.getOrComputePrediction('C1', 'credit', () => ({ risk_score: 5, decision: 'approve' as const }))).rejects.toThrow(code('E_SCHEMA'));
    expect(await ml.getCachedPrediction('C1', 'credit')).toBeNull();
  });
});

describe('features', () => {
  it('round-trips NaN, -0, Infinity, dates and typed arrays exactly', async () => {
    const features = { age: 35, income: Number.NaN, delta: -0, cap: Infinity, seen: new Date('2024-01-15T00:00:00Z'), vector: new Float64Array([0.1, Number.NaN]) };
    await ml.cacheFeatures('C1', features);
    const back = await ml.getCachedFeatures<typeof features>('C1');
    expect(back).toEqual(features);
    expect(Object.is(back?.delta, -0)).toBe(true);
    expect(back?.vector).toBeInstanceOf(Float64Array);
  });

  it('refuses features that are not an object', async () => {
    await expect(ml.cacheFeatures('C1', [1, 2, 3] as never)).rejects.toThrow(code('E_INVALID_VALUE'));
  });

  it('batch-writes and batch-reads features', async () => {
    await ml.cacheFeaturesMany([{ customerId: 'A', features: { x: 1 } }, { customerId: 'B', features: { x: 2 } }]);
    expect(await ml.getCachedFeaturesMany(['B', 'Z', 'A'])).toEqual([{ x: 2 }, null, { x: 1 }]);
    expect(await ml.clearFeatureCache('A')).toEqual({ count: 1, complete: true });
    expect(await ml.clearFeatureCache('A')).toEqual({ count: 0, complete: true });
    expect(await ml.clearFeatureCache()).toEqual({ count: 1, complete: true });
  });
});

describe('artifacts', () => {
  class StandardScaler {
    constructor(public mean: number[] = [], public scale: number[] = []) {}
    transform(row: number[]): number[] {
      return row.map((x, i) => (x - this.mean[i]!) / this.scale[i]!);
    }
  }
  class NotRegistered {
    a = 1;
  }
  registerArtifactClass(StandardScaler, 'unit.StandardScaler');

  it('round-trips registered classes with their methods, typed arrays, Map and Date', async () => {
    const artifacts = {
      scaler: new StandardScaler([10, 20], [2, 4]),
      weights: new Float64Array([0.5, -1.25, Number.NaN]),
      vocabulary: new Map([['a', 1]]),
      model_metadata: { version: 'v1.2.0', trained_date: new Date('2024-01-15') },
      feature_names: ['age', 'income'],
    };
    await ml.cacheModelArtifacts('credit_risk', 'v1.2.0', artifacts);
    const back = await ml.getCachedModelArtifacts<typeof artifacts>('credit_risk', 'v1.2.0');
    expect(back?.scaler).toBeInstanceOf(StandardScaler);
    expect(back?.scaler.transform([12, 24])).toEqual([1, 1]);
    expect(back).toEqual(artifacts);
  });

  it('refuses instances of classes that were not registered, and null', async () => {
    await expect(ml.cacheModelArtifacts('m', 'v1', { x: new NotRegistered() })).rejects.toThrow(code('E_INVALID_VALUE'));
    await expect(ml.cacheModelArtifacts('m', 'v1', null)).rejects.toThrow(code('E_INVALID_VALUE'));
  });

  it('clears one model (every version) or every model', async () => {
    await ml.cacheModelArtifacts('credit', 'v1', { a: 1 });
    await ml.cacheModelArtifacts('credit', 'v2', { a: 2 });
    await ml.cacheModelArtifacts('credit_risk', 'v1', { a: 3 });
    expect(await ml.clearModelCache('credit')).toEqual({ count: 2, complete: true });
    expect(await ml.getCachedModelArtifacts('credit_risk', 'v1')).toEqual({ a: 3 });
    expect(await ml.clearModelCache()).toEqual({ count: 1, complete: true });
  });
});

describe('read-through', () => {
  it('computes once for concurrent callers and serves the cache afterwards', async () => {
    let computes = 0;
    const compute = async () => {
      computes++;
      await new Promise((r) => setTimeout(r, 5));
      return { risk_score: 0.3 };
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => ml.getOrComputePrediction('C1', 'credit', compute)));
    expect(new Set(results.map((r) => r.risk_score))).toEqual(new Set([0.3]));
    expect(computes).toBe(1);
    expect(await ml.getOrComputePrediction('C1', 'credit', compute)).toEqual({ risk_score: 0.3 });
    expect(computes).toBe(1);
    expect(ml.stats().singleFlightJoins).toBe(99);
  });

  it('does not cache a compute that throws, and the error reaches the caller', async () => {
    await expect(ml.getOrComputeFeatures('C1', () => Promise.reject(new Error('feature store down')))).rejects.toThrow('feature store down');
    expect(await ml.getCachedFeatures('C1')).toBeNull();
    expect(await ml.getOrComputeFeatures('C1', () => ({ age: 1 }))).toEqual({ age: 1 });
  });

  it('refuses a computed prediction that is not an object', async () => {
    await expect(ml.getOrComputePrediction('C1', 'credit', () => 0.5 as never)).rejects.toThrow(code('E_INVALID_VALUE'));
  });

  it('serves the stale value during the grace period while one caller refreshes it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const graceful = createMlCache(cache, { grace: 600 });
    await graceful.cacheModelPrediction('C1', 'credit', { v: 1 }, { ttl: 60 });
    vi.setSystemTime(Date.now() + 61_000);
    expect(await graceful.getCachedPrediction('C1', 'credit')).toBeNull();
    expect((await graceful.getCachedPredictionEntry('C1', 'credit'))?.isStale).toBe(true);
    let computes = 0;
    const compute = async () => ({ v: 1 + ++computes });
    const served = await Promise.all(Array.from({ length: 10 }, () => graceful.getOrComputePrediction('C1', 'credit', compute, { ttl: 60 })));
    expect(served).toEqual(Array(10).fill({ v: 1 }));
    await graceful.drain();
    expect(computes).toBe(1);
    expect(await graceful.getCachedPrediction('C1', 'credit')).toEqual({ v: 2 });
  });

  it('keeps serving the stale value when the refresh fails, and reports it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const graceful = createMlCache(cache, { grace: 600 });
    const seen: MlCacheErrorEvent[] = [];
    graceful.on('error', (e) => seen.push(e));
    await graceful.cacheFeatures('C1', { age: 30 }, { ttl: 60 });
    vi.setSystemTime(Date.now() + 61_000);
    const failing = () => Promise.reject(new Error('model server down'));
    expect(await graceful.getOrComputeFeatures('C1', failing)).toEqual({ age: 30 });
    await graceful.drain();
    expect(seen.map((e) => e.operation)).toEqual(['refresh']);
    expect(seen[0]?.error.message).toContain('model server down');
    expect(await graceful.getOrComputeFeatures('C1', failing)).toEqual({ age: 30 });
    await graceful.drain();
  });

  it('without grace an expired value is recomputed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await ml.getOrComputeModelArtifacts('m', 'v1', () => ({ w: 1 }), { ttl: 60 });
    vi.setSystemTime(Date.now() + 61_000);
    expect(await ml.getOrComputeModelArtifacts('m', 'v1', () => ({ w: 2 }), { ttl: 60 })).toEqual({ w: 2 });
  });
});

describe('options', () => {
  it('refuses grace with the finrisk-python layout', () => {
    expect(() => createMlCache(cache, { keyLayout: 'finrisk-python', grace: 30 })).toThrow(code('E_INVALID_CONFIG'));
  });

  it('refuses bad ttl, grace and lock settings before any write', async () => {
    await expect(ml.cacheFeatures('C1', { a: 1 }, { ttl: -1 })).rejects.toThrow(code('E_INVALID_VALUE'));
    await expect(ml.cacheFeatures('C1', { a: 1 }, { grace: Number.NaN })).rejects.toThrow(code('E_INVALID_VALUE'));
    expect(() => createMlCache(cache, { lock: { waitMs: 0 } })).toThrow(code('E_INVALID_VALUE'));
    expect(await ml.getCachedFeatures('C1')).toBeNull();
  });

  it('refuses a payload over maxValueBytes with E_PAYLOAD_TOO_LARGE', async () => {
    const small = createCache({ backend: 'memory', envFile: false, env: {}, maxValueBytes: 1024, compressionThreshold: 0 });
    const tiny = createMlCache(small);
    await expect(tiny.cacheFeatures('C1', { blob: 'x'.repeat(2000) })).rejects.toThrow(code('E_PAYLOAD_TOO_LARGE'));
    await small.close();
  });

  it('throws FinRiskCacheError instances recognisable across copies', async () => {
    const error = await ml.cacheModelPrediction('', 'credit', {}).catch((e: unknown) => e);
    expect(FinRiskCacheError.isInstance(error)).toBe(true);
  });
});

describe('statistics', () => {
  it("files a prediction read under prediction, and does not count the generation token's read as a hit", async () => {
    for (const id of ['C1', 'C2', 'C3']) await ml.cacheModelPrediction(id, 'credit', { risk_score: 0.1 });
    const kinds: string[] = [];
    cache.on('operation', (e) => kinds.push(`${e.operation}:${e.kind}`));
    for (const id of ['C1', 'C2', 'C3', 'NOBODY']) await ml.getCachedPrediction(id, 'credit');
    await ml.getCachedPredictions(['C1', 'NOBODY'], 'credit');
    expect(kinds).toEqual(Array(5).fill('getMany:prediction'));
    const stats = cache.processStats();
    expect(stats.byKind.prediction).toMatchObject({ hits: 4, misses: 2 });
    expect(stats.byKind.generation).toMatchObject({ hits: 0, misses: 0 });
    expect(stats.hits).toBe(4);
    expect(stats.misses).toBe(2);
    expect(stats.hitRate).toBeCloseTo(4 / 6, 10);
  });
});
