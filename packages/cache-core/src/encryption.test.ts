import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CacheErrorEvent } from './cache.js';
import { resolveConfig } from './config.js';
import { MemoryStore } from './stores/memory-store.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const open: Cache[] = [];
afterEach(async () => Promise.all(open.splice(0).map((c) => c.close())));

function cacheOn(store: MemoryStore, env: Record<string, string>): { cache: Cache; errors: CacheErrorEvent[] } {
  const cache = createCache({ store, envFile: false, env, keyPrefix: 'enc' });
  open.push(cache);
  const errors: CacheErrorEvent[] = [];
  cache.on('error', (e) => errors.push(e));
  return { cache, errors };
}

describe('encryption at rest', () => {
  const prediction = { risk_score: 0.91, decision: 'decline', customer: 'CUST-SECRET-42' };

  it('stores ciphertext, reads it back, and leaves kinds not chosen in plaintext', async () => {
    const store = new MemoryStore();
    const { cache } = cacheOn(store, { CACHE_ENCRYPTION_KEYS: `k1:${k1}`, CACHE_ENCRYPT_KINDS: 'prediction,feature' });
    const key = cache.keys.key('prediction', 'C1', 'credit');
    await cache.set(key, prediction);
    const raw = Buffer.from((await store.get(key.key))!);
    expect(raw[5]).toBe(1);
    expect(raw.includes(Buffer.from('CUST-SECRET-42'))).toBe(false);
    expect(raw.includes(Buffer.from('k1'))).toBe(true); // the key id travels with the value
    expect(await cache.get(key)).toEqual(prediction);
    await cache.set('plain', { visible: 'yes' });
    expect(Buffer.from((await store.get(cache.keys.key('kv', 'plain').key))!).includes(Buffer.from('visible'))).toBe(true);
  });

  it('rotates keys without losing what the old key wrote', async () => {
    const store = new MemoryStore();
    const before = cacheOn(store, { CACHE_ENCRYPTION_KEYS: `k1:${k1}` }).cache;
    const old = before.keys.key('feature', 'C1');
    await before.set(old, { income: 75000 });
    const after = cacheOn(store, { CACHE_ENCRYPTION_KEYS: `k2:${k2},k1:${k1}` }).cache;
    expect(after.config.keyring!.activeKeyId).toBe('k2');
    expect(await after.get(old)).toEqual({ income: 75000 });
    const fresh = after.keys.key('feature', 'C2');
    await after.set(fresh, { income: 1 });
    expect(Buffer.from((await store.get(fresh.key))!).includes(Buffer.from('k2'))).toBe(true);
    // once k1 is retired, what it wrote is a miss that says why
    const retired = cacheOn(store, { CACHE_ENCRYPTION_KEYS: `k2:${k2}` });
    expect(await retired.cache.get(old)).toBeNull();
    expect(retired.errors[0]!.error.code).toBe('E_PAYLOAD_UNSUPPORTED');
    expect(retired.errors[0]!.error.message).toContain('"k1"');
    expect(await retired.cache.get(fresh)).toEqual({ income: 1 });
  });

  it('reads a tampered, moved or downgraded payload as a miss and an error event', async () => {
    const store = new MemoryStore();
    const { cache, errors } = cacheOn(store, { CACHE_ENCRYPTION_KEYS: `k1:${k1}` });
    const a = cache.keys.key('prediction', 'ALICE', 'credit');
    const b = cache.keys.key('prediction', 'BOB', 'credit');
    await cache.set(a, prediction);
    const sealed = Buffer.from((await store.get(a.key))!);

    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 20] = tampered[tampered.length - 20]! ^ 1;
    await store.set(a.key, tampered);
    expect(await cache.get(a)).toBeNull();

    await store.set(b.key, sealed); // Alice's ciphertext copied under Bob's key
    expect(await cache.get(b)).toBeNull();

    const relabelled = Buffer.from(sealed);
    relabelled[3] = relabelled[3] === 1 ? 2 : 1; // header says another codec
    await store.set(a.key, relabelled);
    expect(await cache.get(a)).toBeNull();

    const plain = createCache({ store, envFile: false, env: {}, keyPrefix: 'enc' });
    open.push(plain);
    await plain.set(a, { risk_score: 0 }); // written without encryption: a downgrade
    expect(await cache.get(a)).toBeNull();

    expect(errors.map((e) => e.error.code)).toEqual(['E_PAYLOAD_CORRUPT', 'E_PAYLOAD_CORRUPT', 'E_PAYLOAD_CORRUPT', 'E_PAYLOAD_CORRUPT']);
    expect(errors[3]!.error.message).toMatch(/not encrypted/);
    // and a cache without keys says it cannot read encrypted values
    await cache.set(a, prediction);
    const errorsOfPlain: CacheErrorEvent[] = [];
    plain.on('error', (e) => errorsOfPlain.push(e));
    expect(await plain.get(a)).toBeNull();
    expect(errorsOfPlain[0]!.error.code).toBe('E_PAYLOAD_UNSUPPORTED');
  });

  it('keeps locks comparable (they are never encrypted)', async () => {
    const { cache } = cacheOn(new MemoryStore(), { CACHE_ENCRYPTION_KEYS: `k1:${k1}` });
    const lock = cache.keys.key('lock', 'x');
    expect(await cache.setIfAbsent(lock, 'token-1', { ttl: 5 })).toBe(true);
    expect(await cache.deleteIfEquals(lock, 'token-1')).toBe(true);
  });

  it('refuses bad keys naming the key id, never the key', () => {
    const short = Buffer.from('too short').toString('base64');
    expect(() => resolveConfig({ envFile: false, env: { CACHE_ENCRYPTION_KEYS: `prod:${short}` } })).toThrow(/key prod is 9 bytes; AES-256 needs 32/);
    expect(() => resolveConfig({ envFile: false, env: { CACHE_ENCRYPTION_KEYS: `prod:${short}` } })).not.toThrow(new RegExp(short));
    expect(() => resolveConfig({ envFile: false, env: { CACHE_ENCRYPTION_KEYS: `a:${k1}`, CACHE_ENCRYPTION_KEY_ID: 'b' } })).toThrow(/CACHE_ENCRYPTION_KEY_ID=b/);
    expect(() => resolveConfig({ envFile: false, env: { CACHE_ENCRYPTION_KEYS: k1 } })).toThrow(/keyId:base64Key/);
    expect(JSON.stringify(resolveConfig({ envFile: false, env: { CACHE_ENCRYPTION_KEYS: `a:${k1}` } }))).not.toContain(k1);
  });
});
