import type { Cache } from '@finrisk/cache-core';
import { topologies } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMlCache, type MlCache } from './ml-cache.js';
import { startTestRedis, type TestRedis } from './test-redis.js';

// vi.waitFor gives up after 1 s by default: a loaded machine can take longer to get there. A hang
// guard, not a timing assertion.
const WAIT = { timeout: 20_000, interval: 20 };

describe.each(topologies)('read-through on Redis ($name)', (topology) => {
  let redis: TestRedis;
  let cache: Cache;
  let ml: MlCache;

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    cache = redis.cache();
    ml = createMlCache(cache);
  });
  afterAll(async () => {
    await ml.drain();
    await redis.stop();
  });

  it('1,000 concurrent callers on a cold key: one compute, one read round trip, one SET (with the token check)', async () => {
    let computes = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      computes++;
      await gate;
      return { risk_score: 0.42, decision: 'approve' };
    };
    const mget = redis.calls('mget');
    const set = redis.calls('set');
    const callers = Array.from({ length: 1000 }, () => ml.getOrComputePrediction('HOT', 'credit', compute));
    release();
    const results = await Promise.all(callers);
    expect(computes).toBe(1);
    expect(results.every((r) => r.risk_score === 0.42)).toBe(true);
    // One read of the token and the prediction together (two slots, so two MGETs sent at once, on a
    // cluster), and the write's check that the token it wrote under is still there (one MGET).
    expect(redis.calls('mget') - mget).toBe((await redis.mgetsFor([ml.keys.generation('credit'), ml.keys.prediction('HOT', 'credit')])) + 1);
    // the prediction, plus the generation token created by the first write of this model type
    expect(redis.calls('set') - set).toBe(2);
    expect(await ml.getCachedPrediction('HOT', 'credit')).toEqual({ risk_score: 0.42, decision: 'approve' });
  });

  it('a compute that throws is not cached and every waiting caller gets its error', async () => {
    let computes = 0;
    const failing = async () => {
      computes++;
      throw new Error('scoring backend down');
    };
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => ml.getOrComputeFeatures('FAIL', failing)));
    expect(results.every((r) => r.status === 'rejected' && String(r.reason).includes('scoring backend down'))).toBe(true);
    expect(computes).toBe(1);
    expect(redis.cli('EXISTS', ml.keys.feature('FAIL').key)).toBe('0');
  });

  it('writes the computed value with its TTL on the server', async () => {
    await ml.getOrComputeModelArtifacts('rt_model', 'v1', () => ({ weights: new Float64Array([1, 2]) }), { ttl: null });
    expect(redis.cli('PTTL', ml.keys.artifact('rt_model', 'v1').key)).toBe('-1');
    const start = Date.now();
    await ml.getOrComputeFeatures('TTLF', () => ({ a: 1 }));
    // What is left is the feature TTL less the time since the write, however slow the machine.
    const left = Number(redis.cli('PTTL', ml.keys.feature('TTLF').key));
    expect(left).toBeLessThanOrEqual(1_800_000);
    expect(left).toBeGreaterThanOrEqual(1_800_000 - (Date.now() - start));
  });

  it('across processes: a replica waits for the lock owner and does not compute', async () => {
    // Two MlCaches on two connections stand for two replicas: single flight cannot join them.
    const a = createMlCache(cache, { lock: { waitMs: 20_000, pollMs: 10 } });
    const b = createMlCache(redis.cache({ keyPrefix: cache.config.keyPrefix }), { lock: { waitMs: 20_000, pollMs: 10 } });
    let computes = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const computing = new Promise<void>((r) => (started = r));
    const first = a.getOrComputePrediction('LOCKED', 'credit', async () => {
      computes++;
      started();
      await gate;
      return { from: 'a' };
    });
    await computing; // a holds the lock now
    expect(redis.cli('EXISTS', a.keys.lock(a.keys.prediction('LOCKED', 'credit')).key)).toBe('1');
    const second = b.getOrComputePrediction('LOCKED', 'credit', async () => {
      computes++;
      return { from: 'b' };
    });
    await vi.waitFor(() => expect(b.stats().lockWaits).toBe(1), WAIT);
    release();
    expect(await first).toEqual({ from: 'a' });
    expect(await second).toEqual({ from: 'a' });
    expect(computes).toBe(1);
    expect(b.stats().computes).toBe(0);
    // the owner released its lock
    expect(redis.cli('EXISTS', a.keys.lock(a.keys.prediction('LOCKED', 'credit')).key)).toBe('0');
  });

  it('a waiter whose lock owner never writes computes itself after waitMs', async () => {
    const waiter = createMlCache(cache, { lock: { waitMs: 200, pollMs: 20 } });
    const lockKey = waiter.keys.lock(waiter.keys.feature('ORPHAN')).key;
    redis.cli('SET', lockKey, 'someone-else', 'PX', '60000');
    expect(await waiter.getOrComputeFeatures('ORPHAN', () => ({ by: 'waiter' }))).toEqual({ by: 'waiter' });
    expect(waiter.stats()).toMatchObject({ lockWaits: 1, lockWaitTimeouts: 1, computes: 1 });
    // it did not delete a lock it does not own
    expect(redis.cli('GET', lockKey)).toBe('someone-else');
  });

  it('takes over when the lock owner fails and releases without a value', async () => {
    const waiter = createMlCache(cache, { lock: { waitMs: 20_000, pollMs: 10 } });
    const owner = createMlCache(redis.cache({ keyPrefix: cache.config.keyPrefix }), { lock: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const computing = new Promise<void>((r) => (started = r));
    const failing = owner.getOrComputeFeatures('TAKEOVER', async () => {
      started();
      await gate;
      throw new Error('owner crashed');
    });
    await computing;
    const waiting = waiter.getOrComputeFeatures('TAKEOVER', () => ({ by: 'waiter' }));
    await vi.waitFor(() => expect(waiter.stats().lockWaits).toBe(1), WAIT);
    release();
    await expect(failing).rejects.toThrow('owner crashed');
    expect(await waiting).toEqual({ by: 'waiter' });
    expect(waiter.stats()).toMatchObject({ lockWaitTimeouts: 0, locksAcquired: 1, computes: 1 });
  });

  it('grace: stale value served, one refresh across two replicas with the lock', async () => {
    const a = createMlCache(cache, { grace: 600, lock: true });
    const b = createMlCache(redis.cache({ keyPrefix: cache.config.keyPrefix }), { grace: 600, lock: true });
    await a.cacheModelPrediction('STALE', 'credit', { v: 1 }, { ttl: 0.05 });
    await vi.waitFor(async () => expect((await a.getCachedPredictionEntry('STALE', 'credit'))?.isStale).toBe(true), WAIT);
    expect(await a.getCachedPrediction('STALE', 'credit')).toBeNull();
    let computes = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      computes++;
      await gate;
      return { v: 2 };
    };
    const served = await Promise.all([
      ...Array.from({ length: 5 }, () => a.getOrComputePrediction('STALE', 'credit', compute)),
      ...Array.from({ length: 5 }, () => b.getOrComputePrediction('STALE', 'credit', compute)),
    ]);
    expect(served).toEqual(Array(10).fill({ v: 1 }));
    release();
    await Promise.all([a.drain(), b.drain()]);
    expect(computes).toBe(1);
    expect(await b.getCachedPrediction('STALE', 'credit')).toEqual({ v: 2 });
  });

  it('grace: the stale value is served when the refresh fails, and the failure is reported', async () => {
    const graceful = createMlCache(cache, { grace: 600 });
    const events: string[] = [];
    graceful.on('error', (e) => events.push(e.error.message));
    await graceful.cacheModelArtifacts('g_model', 'v1', { w: 1 }, { ttl: 0.05 });
    await vi.waitFor(async () => expect(await graceful.getCachedModelArtifacts('g_model', 'v1')).toBeNull(), WAIT);
    const failing = () => Promise.reject(new Error('artifact store unreachable'));
    expect(await graceful.getOrComputeModelArtifacts('g_model', 'v1', failing)).toEqual({ w: 1 });
    await graceful.drain();
    expect(events).toHaveLength(1);
    expect(events[0]).toContain('artifact store unreachable');
    expect(graceful.stats()).toMatchObject({ staleServed: 1, refreshes: 1, computeFailures: 1 });
  });
});
