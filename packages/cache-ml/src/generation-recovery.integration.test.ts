import { topologies, singleNode, uniquePrefix } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlCache, type MlCache } from './ml-cache.js';
import { startTestRedis, type TestRedis } from './test-redis.js';

// A model's generation token can vanish (FLUSHALL, an operator's DEL, an eviction, a failover
// that lost it) while a writer still remembers it: no prediction written after that may be
// unreadable (issue: a writer kept writing under the remembered token for up to a second).
describe.each(topologies)('generation token recovery on Redis ($name)', (topology) => {
  let redis: TestRedis;
  let writer: MlCache;
  let reader: MlCache;

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    const prefix = uniquePrefix('gen');
    // Two processes' worth of caches: the writer remembers tokens, the reader does not write.
    writer = createMlCache(redis.cache({ keyPrefix: prefix }), { generationRefreshMs: 60_000 });
    reader = createMlCache(redis.cache({ keyPrefix: prefix }));
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('after FLUSHALL, the next write creates a new token and its prediction is readable', async () => {
    expect(await writer.cacheModelPrediction('C1', 'credit', { s: 1 })).toBe(true);
    expect(await reader.getCachedPrediction('C1', 'credit')).toEqual({ s: 1 });
    for (const master of redis.deployment.masters()) master.cli('FLUSHALL');
    // The writer still remembers the old token (refresh 60 s): it must notice it vanished.
    expect(await writer.cacheModelPrediction('C2', 'credit', { s: 2 })).toBe(true);
    expect(await reader.getCachedPrediction('C2', 'credit')).toEqual({ s: 2 });
    expect(await writer.cachePredictionsMany([{ customerId: 'C3', modelType: 'credit', prediction: { s: 3 } }])).toBe(true);
    expect(await reader.getCachedPredictions(['C2', 'C3'], 'credit')).toEqual([{ s: 2 }, { s: 3 }]);
  });

  it("after an operator's DEL of the token, what was written before is gone and what is written after is read", async () => {
    expect(await writer.cacheModelPrediction('D1', 'fraud', { s: 1 })).toBe(true);
    const token = writer.keys.generation('fraud').key;
    expect(redis.cli('DEL', token)).toBe('1');
    expect(await reader.getCachedPrediction('D1', 'fraud')).toBeNull();
    const many = ['D2', 'D3', 'D4'].map((customerId, i) => ({ customerId, modelType: 'fraud', prediction: { s: i } }));
    expect(await writer.cachePredictionsMany(many)).toBe(true);
    expect(await reader.getCachedPredictions(['D1', 'D2', 'D3', 'D4'], 'fraud')).toEqual([null, { s: 0 }, { s: 1 }, { s: 2 }]);
  });

  it('a read that finds no token makes the next write read it again (or create it) at once', async () => {
    expect(await writer.cacheModelPrediction('R1', 'limits', { s: 1 })).toBe(true);
    redis.cli('DEL', writer.keys.generation('limits').key);
    expect(await writer.getCachedPrediction('R1', 'limits')).toBeNull(); // the writer's own read saw it gone
    const before = redis.calls('set');
    expect(await writer.cacheModelPrediction('R2', 'limits', { s: 2 })).toBe(true);
    // One SET for the new token (NX), one for the prediction: nothing written twice.
    expect(redis.calls('set') - before).toBe(2);
    expect(await reader.getCachedPrediction('R2', 'limits')).toEqual({ s: 2 });
  });

  it('a deploy (a new token) is not undone: a write that raced it stays unreadable', async () => {
    expect(await writer.cacheModelPrediction('B1', 'deploy', { s: 'old' })).toBe(true);
    expect(await reader.invalidateModelPredictions('deploy')).toBe(true);
    // The writer still remembers the old token: its write lands under it, and is not rewritten under the new one.
    expect(await writer.cacheModelPrediction('B2', 'deploy', { s: 'old model' })).toBe(true);
    expect(await reader.getCachedPrediction('B2', 'deploy')).toBeNull();
    // From then on it writes under the new token.
    expect(await writer.cacheModelPrediction('B3', 'deploy', { s: 'new model' })).toBe(true);
    expect(await reader.getCachedPrediction('B3', 'deploy')).toEqual({ s: 'new model' });
  });
});

describe('generation tokens are untrusted input', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  // What this SDK writes: 16 characters of base64url. Anything else under a token key was written
  // by someone else; before, a 64 KiB string was copied into every prediction written after it,
  // and an object made every prediction write fail for good.
  it.each([
    ['64 KiB of text', 'x'.repeat(64 * 1024)],
    ['text outside base64url', 'a token with spaces!'],
    ['an object', { token: 'abc' }],
    ['a number', 42],
  ])('a forged token (%s) is replaced by the next write, never written into predictions', async (_what, forged) => {
    const prefix = uniquePrefix('forged');
    const writer = createMlCache(redis.cache({ keyPrefix: prefix }));
    const reader = createMlCache(redis.cache({ keyPrefix: prefix }));
    const probe = redis.cache({ keyPrefix: prefix });
    const tokenKey = writer.keys.generation('credit');
    expect(await probe.set(tokenKey, forged, { ttl: null })).toBe(true);
    expect(await reader.getCachedPrediction('F1', 'credit')).toBeNull();
    expect(await writer.cacheModelPrediction('F1', 'credit', { s: 1 })).toBe(true);
    expect(await probe.get(tokenKey)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await reader.getCachedPrediction('F1', 'credit')).toEqual({ s: 1 });
    expect(Buffer.byteLength(redis.cli('GET', writer.keys.prediction('F1', 'credit').key))).toBeLessThan(200);
  });
});

describe('generation token recovery under maxmemory eviction (allkeys-random)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis({ name: 'single', start: () => singleNode.start({ args: ['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-random'] }) });
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('every prediction whose write succeeded after the token was evicted is read back', async () => {
    const prefix = uniquePrefix('evict');
    const writer = createMlCache(redis.cache({ keyPrefix: prefix }), { generationRefreshMs: 60_000 });
    const reader = createMlCache(redis.cache({ keyPrefix: prefix }));
    const probe = redis.cache({ keyPrefix: prefix });
    const tokenKey = writer.keys.generation('credit');
    const padding = 'p'.repeat(4000);
    let evictions = 0;
    let checked = 0;
    let token: unknown;
    // Write until eviction has taken the token a few times (the writer then creates a new one:
    // nothing else changes it here): every prediction whose write succeeded must read back right after.
    for (let i = 0; i < 20_000 && evictions < 3; i++) {
      const id = `E${i}`;
      const now = await probe.get(tokenKey);
      if (token !== undefined && now !== token) evictions++;
      token = now;
      if (!(await writer.cacheModelPrediction(id, 'credit', { i, padding }))) continue;
      // Only writes evict (reads do not allocate), and nothing writes between the write's last
      // command and this read: the prediction and its token are both still there.
      const read = await reader.getCachedPredictionEntry(id, 'credit');
      checked++;
      expect(read?.value, `prediction ${id} cannot be read right after its write succeeded`).toEqual({ i, padding });
    }
    expect(evictions, 'the token was never evicted: the test proved nothing').toBeGreaterThan(0);
    expect(checked).toBeGreaterThan(100);
  }, 120_000);
});
