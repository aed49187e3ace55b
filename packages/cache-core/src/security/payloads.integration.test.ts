// Payloads that cannot lie and keys that cannot be reached, against a real redis-server: forged
// payloads (unregistered classes, __proto__ in any spelling, constructor.prototype) are misses with
// an error event and leave Object.prototype alone; ids from callers reach their own key only;
// sizes are limited on write and on read (a decompression bomb is a miss).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from '../cache.js';
import { Codec } from '../codec.js';
import { FinRiskCacheError } from '../errors.js';
import { errorsOf } from '../../test/error-events.js';

let server: RedisServer;
let raw: ReturnType<typeof createClient>;
const open: Cache[] = [];

function make(options: CreateCacheOptions = {}): Cache {
  // A generous command deadline: a pause of this process on a loaded machine must not fail a healthy call.
  const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, commandTimeoutMs: 5000, ...options });
  open.push(cache);
  return cache;
}

const envelope = (codec: number, text: string) => Buffer.concat([Buffer.from([0xf1, 0x52, 1, codec, 0, 0]), Buffer.from(text)]);
const mlDist = fileURLToPath(new URL('../../../cache-ml/dist/index.js', import.meta.url));

/** The report's payload: Python's json.dumps and any JSON writer may spell a character as \uXXXX. */
const ESCAPED_PROTO = '{"age": 1, "\\u005f_proto__": {"isAdmin": true}}';

function expectPrototypesClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_NAMES);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).admin).toBeUndefined();
}
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  server = await startRedisServer();
  raw = createClient({ url: server.url });
  await raw.connect();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  expectPrototypesClean();
});
afterAll(async () => {
  await raw.close();
  await server.stop();
});

describe('forged payloads', () => {
  const forged: [string, Buffer][] = [
    ['a superjson payload naming an unregistered class', envelope(Codec.superjson, JSON.stringify({ json: { a: {} }, meta: { values: { a: [['class', 'Evil']] }, v: 1 } }))],
    ['a superjson payload naming an unknown custom type', envelope(Codec.superjson, JSON.stringify({ json: { a: 1 }, meta: { values: { a: [['custom', 'Evil']] }, v: 1 } }))],
    ['a superjson payload with __proto__ in a path', envelope(Codec.superjson, '{"json":{"__proto__":{"polluted":"yes"}},"meta":{"values":{"__proto__.polluted":["Date"]},"v":1}}')],
    ['a superjson payload reaching constructor.prototype', envelope(Codec.superjson, '{"json":{"constructor":{"prototype":{"polluted":"yes"}}},"meta":{"values":{"constructor.prototype.polluted":["Date"]},"v":1}}')],
    ['a superjson payload with a __proto__ referential path', envelope(Codec.superjson, '{"json":{"a":{"admin":true},"b":null},"meta":{"referentialEqualities":{"a":["__proto__"]},"v":1}}')],
    ['a JSON payload with a __proto__ key', envelope(Codec.json, '{"__proto__": {"admin": true}, "score": 1}')],
    ['a JSON payload with a nested __proto__ key', envelope(Codec.json, '{"a": [{"__proto__": {"admin": true}}]}')],
    ['a JSON payload with a __proto__ key spelled \\u005f_proto__', envelope(Codec.json, ESCAPED_PROTO)],
    ['a JSON payload with a __proto__ key spelled in escapes only', envelope(Codec.json, '{"\\u005F\\u005F\\u0070\\u0072\\u006F\\u0074\\u006F\\u005F\\u005F": {"admin": true}}')],
    ['a deflated JSON payload with an escaped __proto__ key', Buffer.concat([Buffer.from([0xf1, 0x52, 1, Codec.json, 1, 0]), deflateRawSync(ESCAPED_PROTO)])],
    ['a superjson payload with a __proto__ key in its data', envelope(Codec.superjson, '{"json":{"age":1,"__proto__":{"admin":true}}}')],
    ['a superjson payload with an escaped __proto__ key in its data', envelope(Codec.superjson, `{"json":${ESCAPED_PROTO},"meta":{"values":{"age":["bigint"]},"v":1}}`)],
    ['a payload this SDK did not write', Buffer.from('{"__proto__": {"admin": true}}')],
  ];

  it.each(forged)('%s is a miss and an error event, and builds nothing', async (_name, payload) => {
    const cache = make();
    const errors = errorsOf(cache);
    const key = cache.keys.key('kv', 'forged').key;
    await raw.set(key, payload);
    expect(await cache.get('forged')).toBeNull();
    expect(await cache.getMany(['forged', 'forged'])).toEqual([null, null]);
    expect(errors).toHaveLength(3);
    for (const e of errors) {
      expect(e.error.code).toBe('E_PAYLOAD_CORRUPT');
      expect(e.key).toBe(key);
    }
    expect(cache.processStats().byKind.kv!.misses).toBe(3);
    expectPrototypesClean();
  });

  it('an escaped __proto__ key under a Python-layout key is a miss and an error event, through get and getCachedFeatures', async () => {
    const cache = make({ keyLayout: 'finrisk-python' });
    const errors = errorsOf(cache);
    const customer = `CUST-${uniquePrefix()}`;
    const key = { kind: 'feature', key: `features:${customer}`, format: 'json' } as const;
    for (const text of [ESCAPED_PROTO, '{"age": NaN, "\\u005f_proto__": {"isAdmin": true}}', '{"__proto__": {"isAdmin": true}}']) {
      expect(JSON.parse(text.replace('NaN', '0')).__proto__).toEqual({ isAdmin: true }); // JSON.parse builds the own key
      await raw.set(key.key, text);
      expect(await cache.get(key)).toBeNull();
      expect(await cache.getMany([key])).toEqual([null]);
      expect(await cache.getAndTouch(key)).toBeNull();
    }
    expect(errors).toHaveLength(9);
    for (const e of errors) {
      expect(e.error.code).toBe('E_PAYLOAD_CORRUPT');
      expect(e.error.message).toMatch(/__proto__ key is not allowed/);
    }
    // The reporter's call, through cache-ml's built package (cache-core does not depend on it).
    expect(existsSync(mlDist), `${mlDist} is missing: run pnpm build first`).toBe(true);
    const { createMlCache } = (await import(mlDist)) as { createMlCache: (cache: Cache) => { getCachedFeatures(id: string): Promise<unknown> } };
    await raw.set(key.key, ESCAPED_PROTO);
    const features = await createMlCache(cache).getCachedFeatures(customer);
    expect(features).toBeNull();
    expect((Object.assign({}, features) as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(errors.at(-1)?.error.message).toMatch(/__proto__ key is not allowed/);
    expectPrototypesClean();
  });

  it('a value with a constructor field is data: it round-trips and changes no prototype', async () => {
    const cache = make();
    const value = { constructor: { prototype: { polluted: 'yes' } }, toString: 'not a function', hasOwnProperty: 1 };
    expect(await cache.set('ctor', value)).toBe(true);
    const back = (await cache.get<typeof value>('ctor'))!;
    expect(back).toEqual(value);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expectPrototypesClean();
  });

  it('refuses to write a value with a __proto__ key or an unregistered class', async () => {
    const cache = make();
    await expect(cache.set('p', JSON.parse('{"__proto__": {"admin": true}}'))).rejects.toSatisfy((e) => FinRiskCacheError.hasCode(e, 'E_INVALID_VALUE'));
    class Unregistered {
      x = 1;
    }
    await expect(cache.set('c', { a: new Unregistered() })).rejects.toThrow(/register the class first/);
    expect(await raw.exists([cache.keys.key('kv', 'p').key, cache.keys.key('kv', 'c').key])).toBe(0);
  });
});

describe('keys built from caller input', () => {
  const ids = ['*', '?', '[a-z]', 'a*', 'a?c', 'a[bc]', 'a:b', 'a%3Ab', 'a%b', '%', 'a\\*', '\\', 'a b', ' ', 'ü', 'ключ', '顧客', '😀', 'a:*', '*:a', 'CUST001', 'CUST001:credit'];

  it('each id reaches its own key and no other', async () => {
    const cache = make();
    for (const id of ids) expect(await cache.set(id, { id })).toBe(true);
    for (const id of ids) expect(await cache.get(id)).toEqual({ id });
    const stored = new Set<string>();
    for await (const batch of cache.scan('')) for (const key of batch) stored.add(key);
    expect(stored.size).toBe(ids.length);
    // ':' inside an id is encoded, so `a:b` (one id) and the parts `a`, `b` are different keys.
    expect(cache.keys.key('kv', 'a:b').key).not.toBe(cache.keys.key('kv', 'a', 'b').key);
    expect(await cache.get(cache.keys.key('kv', 'a', 'b'))).toBeNull();
  });

  it('prefix operations treat glob characters literally and stay inside the prefix', async () => {
    const cache = make();
    const other = make();
    for (const id of ids) await cache.set(id, id);
    await other.set('a', 'other tenant');
    for (const id of ids) {
      const expected = ids.filter((k) => k.startsWith(id)).length;
      expect(await cache.countByPrefix(id), `prefix ${JSON.stringify(id)}`).toEqual({ count: expected, complete: true });
    }
    expect(await cache.deleteByPrefix('a*')).toEqual({ count: 1, complete: true });
    expect(await cache.get('a*')).toBeNull();
    expect(await cache.get('a?c')).toBe('a?c');
    expect(await cache.deleteByPrefix('*')).toEqual({ count: 2, complete: true }); // '*' and '*:a', not everything
    expect(await cache.deleteByPrefix('')).toEqual({ count: ids.length - 3, complete: true });
    expect(await other.get('a')).toBe('other tenant');
    expect(server.cli('INFO', 'commandstats')).not.toMatch(/cmdstat_keys:/);
  });

  it('refuses ids that are empty, too long, or not text', async () => {
    const cache = make();
    expect(await cache.set('x'.repeat(512), 1)).toBe(true);
    for (const bad of ['', 'x'.repeat(513), 'a\nb', 'a\u0000b', 'a\u007fb', '\ud800']) {
      const error = await cache.set(bad, 1).catch((e: unknown) => e);
      expect(FinRiskCacheError.hasCode(error, 'E_INVALID_KEY'), JSON.stringify(bad)).toBe(true);
      await expect(cache.get(bad)).rejects.toSatisfy((e) => FinRiskCacheError.hasCode(e, 'E_INVALID_KEY'));
    }
    expect(await cache.countByPrefix('')).toEqual({ count: 1, complete: true });
  });
});

describe('size limits', () => {
  it('refuses a value over maxValueBytes and writes nothing; values under it are stored', async () => {
    const cache = make({ maxValueBytes: 64 * 1024, compressionThreshold: 0 });
    expect(await cache.set('fits', Buffer.alloc(64 * 1024 - 6))).toBe(true);
    for (const [key, value] of [['big', Buffer.alloc(64 * 1024)], ['text', 'x'.repeat(70_000)], ['nested', { a: ['y'.repeat(70_000)] }]] as const) {
      const error = await cache.set(key, value).catch((e: unknown) => e);
      expect(FinRiskCacheError.hasCode(error, 'E_PAYLOAD_TOO_LARGE'), key).toBe(true);
      expect((error as Error).message).toMatch(/limit is 65536/);
      expect(await raw.exists(cache.keys.key('kv', key).key)).toBe(0);
    }
    const batch = await cache.setMany([{ key: 'ok', value: 1 }, { key: 'big', value: Buffer.alloc(70_000) }]).catch((e: unknown) => e);
    expect(FinRiskCacheError.hasCode(batch, 'E_PAYLOAD_TOO_LARGE')).toBe(true);
    expect(await raw.exists(cache.keys.key('kv', 'ok').key)).toBe(0); // the whole batch is refused before anything is sent
  });

  it('a compressible value is measured before compression, so that a reader with the same limit can inflate it', async () => {
    const cache = make({ maxValueBytes: 16 * 1024, compressionThreshold: 1024 });
    const error = await cache.set('zeros', 'z'.repeat(200_000)).catch((e: unknown) => e);
    expect(FinRiskCacheError.hasCode(error, 'E_PAYLOAD_TOO_LARGE')).toBe(true);
    expect((error as Error).message).toMatch(/200008 bytes serialized \(before compression\); the limit is 16384/);
    expect(await raw.exists(cache.keys.key('kv', 'zeros').key)).toBe(0);
    // Just under the limit: stored compressed, and read back by a cache with the same limit.
    const fits = 'z'.repeat(16 * 1024 - 8);
    expect(await cache.set('fits', fits)).toBe(true);
    expect((await raw.get(cache.keys.key('kv', 'fits').key))!.length).toBeLessThan(1024);
    const reader = make({ maxValueBytes: 16 * 1024, keyPrefix: cache.config.keyPrefix });
    expect((await reader.get('fits')) === fits, 'a reader with the same limit reads it back').toBe(true);
  });

  it('a decompression bomb is a miss and an error event naming the limit, in get, getMany and getAndTouch, plain or encrypted', async () => {
    // 64 MiB of zeros deflate to ~64 KB; the readers' limit is 1 MiB.
    const bomb = Buffer.concat([Buffer.from([0xf1, 0x52, 1, Codec.bytes, 1, 0]), deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })]);
    const keyring = { keys: { k1: Buffer.alloc(32, 7) } };
    for (const encryption of [undefined, keyring]) {
      const cache = make({ maxValueBytes: 1024 * 1024, ...(encryption ? { encryption } : {}) });
      const errors = errorsOf(cache);
      const key = cache.keys.key('kv', 'bomb').key;
      // A writer with the keyring can encrypt anything; the bound holds behind the decryption too.
      await raw.set(key, encryption ? cache.config.keyring!.encrypt(bomb, key) : bomb);
      // Described, not compared: a diff of 64 MiB would be the test's own memory problem.
      const outcome = (value: unknown) => (value === null ? 'miss' : `a value of ${(value as Uint8Array).byteLength} bytes`);
      expect(outcome(await cache.get('bomb'))).toBe('miss');
      expect((await cache.getMany(['bomb', 'bomb'])).map(outcome)).toEqual(['miss', 'miss']);
      expect(outcome(await cache.getAndTouch('bomb', { ttl: 60 }))).toBe('miss');
      expect(errors).toHaveLength(4);
      for (const e of errors) {
        expect(e.error.code).toBe('E_PAYLOAD_CORRUPT');
        expect(e.error.message).toMatch(/inflates to more than the limit of 1048576 bytes \(maxValueBytes \/ CACHE_MAX_VALUE_BYTES\)/);
        expect(e.key).toBe(key);
      }
      expect(cache.processStats().byKind.kv).toMatchObject({ hits: 0, misses: 4, errors: 4 });
    }
  });
});
