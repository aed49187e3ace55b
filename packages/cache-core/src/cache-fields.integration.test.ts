import { randomBytes } from 'node:crypto';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from './cache.js';
import { errorsOf } from '../test/error-events.js';

let server: RedisServer;
const open: Cache[] = [];
function make(options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, commandTimeoutMs: 5000, ...options });
  open.push(cache);
  return cache;
}

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const cache of open) await cache.close();
  await server?.stop();
});

describe('Cache fields', () => {
  it('round-trips each field through the codec (typed arrays, NaN), with encryption and compression per field', async () => {
    const cache = make({ encryption: { keys: { k1: randomBytes(32) }, kinds: '*' }, compressionThreshold: 64 });
    const key = cache.keys.key('feature', 'C1');
    const big = 'x'.repeat(10_000);
    expect(await cache.setFields(key, [{ field: 'nan', value: Number.NaN }, { field: 'vec', value: new Float64Array([1.5, -2]) }, { field: 'big', value: big }])).toBe(true);
    const [read] = await cache.getFields(key ? [key] : []);
    expect(read?.fields?.get('nan')).toBeNaN();
    expect(read?.fields?.get('vec')).toEqual(new Float64Array([1.5, -2]));
    expect(read?.fields?.get('big')).toBe(big);
    // Encrypted in Redis, and compressed before it (10,000 bytes of one letter stored in far fewer).
    expect(server.cli('HSTRLEN', key.key, 'big').length).toBeGreaterThan(0);
    expect(Number(server.cli('HSTRLEN', key.key, 'big'))).toBeLessThan(1000);
    expect(server.cli('HGET', key.key, 'nan')).not.toContain('NaN');
  });

  it("does not decrypt a field's ciphertext moved to another field (a read of it is a miss and an error event)", async () => {
    const cache = make({ encryption: { keys: { k1: randomBytes(32) }, kinds: '*' } });
    const errors = errorsOf(cache);
    const key = cache.keys.key('feature', 'C2');
    await cache.setFields(key, [{ field: 'income', value: 75000 }, { field: 'age', value: 35 }]);
    const client = (await cache.getRedisClient())!;
    const stolen = await client.withCommandOptions({ typeMapping: { 36: Buffer } }).hGet(key.key, 'income');
    await client.hSet(key.key, 'age', stolen as unknown as Buffer);
    const [read] = await cache.getFields([key]);
    expect([...read!.fields!.entries()]).toEqual([['income', 75000]]);
    expect(errors.some((e) => e.error.code === 'E_PAYLOAD_CORRUPT')).toBe(true);
  });

  it('reads a key still holding a plain value as that value, and converts it on a write given fromPlain', async () => {
    const cache = make();
    const key = cache.keys.key('feature', 'C3');
    await cache.set(key, { age: 35, income: 75000 }, { ttl: 600 });
    const [read] = await cache.getFields([key], { fields: ['age'] });
    expect(read).toEqual({ plain: { age: 35, income: 75000 } });
    expect(await cache.setFields(key, [{ field: 'income', value: 80000 }])).toBe(false);
    const fromPlain = (value: unknown) => Object.entries(value as object).map(([field, v]) => ({ field, value: v as unknown }));
    expect(await cache.setFields(key, [{ field: 'income', value: 80000 }], { fromPlain })).toBe(true);
    const [after] = await cache.getFields([key]);
    expect(Object.fromEntries(after!.fields!)).toEqual({ age: 35, income: 80000 });
    expect(await cache.ttl(key)).toBeGreaterThan(500);
  });

  it('reads a batch larger than one chunk (2,501 keys) in order, misses included', async () => {
    const cache = make();
    const keys = Array.from({ length: 2501 }, (_, i) => cache.keys.key('feature', `B${i}`));
    await Promise.all(keys.map((key, i) => (i % 7 === 3 ? true : cache.setFields(key, [{ field: 'i', value: i }]))));
    const reads = await cache.getFields<number>(keys, { fields: ['i'] });
    expect(reads.map((r) => r?.fields?.get('i') ?? null)).toEqual(keys.map((_, i) => (i % 7 === 3 ? null : i)));
  });

  it('answers null for a backend failure and refuses a reserved field name', async () => {
    const cache = make({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
    const key = cache.keys.key('feature', 'C4');
    expect(await cache.getFields([key])).toEqual([null]);
    expect(await cache.setFields(key, [{ field: 'a', value: 1 }])).toBe(false);
    await expect(make().setFields(key, [{ field: '\u0000x', value: 1 }])).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
  });
});
