import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Cache } from '@finrisk/cache-core';
import { topologies } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FORMAT_FIELD } from './feature-fields.js';
import { createMlCache, type MlCache } from './ml-cache.js';
import { startTestRedis, type TestRedis } from './test-redis.js';

/** Runs Python's own json module (the Python service's) on `input`; its stdout. */
function python(script: string, input: string): string {
  return execFileSync('python3', ['-c', script], { input, encoding: 'utf8' }).trim();
}

describe.each(topologies)('partial feature updates, finrisk layout ($name)', (topology) => {
  let redis: TestRedis;
  let cache: Cache;
  let ml: MlCache;

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    cache = redis.cache({ encryption: { keys: { k1: randomBytes(32) }, kinds: ['feature'] } });
    ml = createMlCache(cache);
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('updates two features and keeps the rest; reads some of them, alone and in a batch', async () => {
    await ml.cacheFeatures('C1', { age: 35, income: 75000, txn_count_1h: 1, last_txn_amount: 10.5 });
    expect(await ml.updateFeatures('C1', { txn_count_1h: 4, last_txn_amount: 99.9 })).toBe(true);
    expect(await ml.getCachedFeatures('C1')).toEqual({ age: 35, income: 75000, txn_count_1h: 4, last_txn_amount: 99.9 });
    expect(await ml.getCachedFeatures('C1', { only: ['income', 'txn_count_1h', 'nope'] })).toEqual({ income: 75000, txn_count_1h: 4 });
    await ml.updateFeatures('C2', { age: 50 });
    expect(await ml.getCachedFeaturesMany(['C1', 'C0', 'C2'], { only: ['age'] })).toEqual([{ age: 35 }, null, { age: 50 }]);
    expect(await ml.getCachedFeatures('C2', { only: ['income'] })).toBeNull();
    // One hash per customer, a field per feature, a format version; each field encrypted on its own.
    const key = ml.keys.feature('C1').key;
    expect(redis.cli('TYPE', key)).toBe('hash');
    expect(redis.cli('HEXISTS', key, 'income')).toBe('1');
    expect(redis.cli('HEXISTS', key, FORMAT_FIELD)).toBe('1');
    expect(redis.cli('HGET', key, 'income')).not.toContain('75000');
  });

  it('keeps the order a vector was written in, on a hash Redis keeps unordered (200 fields); updates add new features after it', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `f${(i * 7919) % 200}`);
    const vector = Object.fromEntries(names.map((name, i) => [name, i % 10 === 0 ? 'x'.repeat(100) : i]));
    await ml.cacheFeatures('ORD', vector);
    expect(Object.keys((await ml.getCachedFeatures('ORD'))!)).toEqual(names);
    await ml.updateFeatures('ORD', { b_new: 1, a_new: 2, [names[5]!]: -1 });
    expect(Object.keys((await ml.getCachedFeatures('ORD'))!)).toEqual([...names, 'a_new', 'b_new']);
    expect(Object.keys((await ml.getCachedFeatures('ORD', { only: [names[9]!, names[3]!] }))!)).toEqual([names[9], names[3]]);
  });

  it('a whole-vector write replaces every feature; the entry says when each feature was written', async () => {
    await ml.cacheFeatures('C3', { a: 1, b: 2 });
    const before = Date.now();
    await ml.updateFeatures('C3', { b: 3 });
    await ml.cacheFeatures('C4', { a: 1, b: 2 });
    await ml.cacheFeatures('C4', { c: 3 });
    expect(await ml.getCachedFeatures('C4')).toEqual({ c: 3 });
    const entry = await ml.getCachedFeaturesEntry('C3');
    expect(entry?.value).toEqual({ a: 1, b: 3 });
    expect(entry!.featureCachedAt!.b!.getTime()).toBeGreaterThanOrEqual(before);
    expect(entry!.featureCachedAt!.a!.getTime()).toBeLessThanOrEqual(before);
    expect(entry!.cachedAt!.getTime()).toBe(entry!.featureCachedAt!.a!.getTime());
  });

  it('reads an entry written whole by the earlier format, and converts it on the first update', async () => {
    const key = ml.keys.feature('OLD');
    const cachedAt = Date.now() - 60_000;
    // What versions before the hash wrote: one envelope record of the whole vector.
    await cache.set(key, { value: { age: 35, income: 75000 }, cachedAt }, { ttl: 600 });
    expect(redis.cli('TYPE', key.key)).toBe('string');
    expect(await ml.getCachedFeatures('OLD')).toEqual({ age: 35, income: 75000 });
    expect(await ml.getCachedFeatures('OLD', { only: ['income'] })).toEqual({ income: 75000 });
    expect(await ml.updateFeatures('OLD', { txn_count_1h: 2 }, { ttl: 60 })).toBe(true);
    expect(redis.cli('TYPE', key.key)).toBe('hash');
    const entry = await ml.getCachedFeaturesEntry('OLD');
    expect(entry?.value).toEqual({ age: 35, income: 75000, txn_count_1h: 2 });
    expect(entry?.featureCachedAt?.age?.getTime()).toBe(cachedAt);
    // The key keeps the old entry's TTL (longer than the update's).
    expect(Number(redis.cli('PTTL', key.key))).toBeGreaterThan(500_000);
  });

  it("a stale streaming feature reads as missing while the customer's batch features stay", async () => {
    await ml.cacheFeatures('S1', { age: 35, income: 75000 }, { ttl: 600 });
    await ml.updateFeatures('S1', { txn_count_1h: 4 }, { ttl: 0.2 });
    expect(await ml.getCachedFeatures('S1', { only: ['txn_count_1h'] })).toEqual({ txn_count_1h: 4 });
    await vi.waitFor(async () => expect(await ml.getCachedFeatures('S1')).toEqual({ age: 35, income: 75000 }), { timeout: 5000, interval: 50 });
    expect(await ml.getCachedFeatures('S1', { only: ['txn_count_1h'] })).toBeNull();
    // The short update did not shorten the customer's key.
    expect(Number(redis.cli('PTTL', ml.keys.feature('S1').key))).toBeGreaterThan(500_000);
  });

  it('refuses feature names the hash cannot hold, and `only` that is not a list of names', async () => {
    await expect(ml.updateFeatures('X', { '\u0001v': 1 })).rejects.toMatchObject({ code: 'E_INVALID_VALUE' });
    await expect(ml.cacheFeatures('X', { '': 1 })).rejects.toMatchObject({ code: 'E_INVALID_VALUE' });
    await expect(ml.getCachedFeatures('X', { only: 'age' as unknown as string[] })).rejects.toMatchObject({ code: 'E_INVALID_VALUE' });
  });
});

describe.each(topologies)('partial feature updates, finrisk-python layout ($name)', (topology) => {
  let redis: TestRedis;
  let py: MlCache;

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    py = createMlCache(redis.cache({ env: { CACHE_KEY_LAYOUT: 'finrisk-python' } }));
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('merges an update into the JSON value on the server, which Python reads, and reads what Python wrote after it', async () => {
    redis.cli('SET', 'features:P1', '{"age": 35, "income": 75000.0, "debt_to_income": 0.30000000000000004, "city": "M\\u00fcnchen"}');
    expect(await py.updateFeatures('P1', { txn_count_1h: 4, income: 80000 }, { ttl: 60 })).toBe(true);
    const stored = redis.cli('GET', 'features:P1');
    expect(stored).toBe('{"age": 35, "income": 80000, "debt_to_income": 0.30000000000000004, "city": "M\\u00fcnchen", "txn_count_1h": 4}');
    // Python's json module reads it as the Python service would.
    expect(python('import json,sys; d=json.loads(sys.stdin.read()); print(d["income"], d["txn_count_1h"], d["city"], d["debt_to_income"])', stored)).toBe('80000 4 München 0.30000000000000004');
    // And the SDK reads what Python writes after a partial update.
    const rewritten = python('import json,sys; d=json.loads(sys.stdin.read()); d["age"]=36; print(json.dumps(d))', stored);
    redis.cli('SET', 'features:P1', rewritten);
    expect(await py.getCachedFeatures('P1', { only: ['age', 'txn_count_1h'] })).toEqual({ age: 36, txn_count_1h: 4 });
  });

  it('creates the value when missing, with the TTL, and keeps every concurrent update', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => py.updateFeatures('P2', { [`f${i}`]: i }, { ttl: 60 })));
    const value = (await py.getCachedFeatures('P2')) as Record<string, number>;
    expect(Object.keys(value)).toHaveLength(20);
    expect(Number(redis.cli('PTTL', 'features:P2'))).toBeGreaterThan(50_000);
  });

  it('refuses a grace period (plain JSON has no room for it)', async () => {
    await expect(py.updateFeatures('P3', { a: 1 }, { grace: 10 })).rejects.toMatchObject({ code: 'E_INVALID_CONFIG' });
  });
});
