// Encryption at rest on a real redis-server: what Redis holds is ciphertext, keys rotate without
// losing what the old key wrote, and tampered, moved, foreign or downgraded values are misses with
// an error event. (The keyring itself is unit-tested in encryption.test.ts.)
import { randomBytes } from 'node:crypto';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { createClient, RESP_TYPES } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache } from '../cache.js';
import { errorsOf } from '../../test/error-events.js';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const OTHER_K1 = randomBytes(32).toString('base64');

let server: RedisServer;
let raw: ReturnType<typeof createClient>;
const open: Cache[] = [];
let prefix: string;

function make(keys: string, activeKeyId?: string): Cache {
  const env: Record<string, string> = { CACHE_ENCRYPTION_KEYS: keys, CACHE_ENCRYPT_KINDS: 'prediction,feature' };
  if (activeKeyId) env.CACHE_ENCRYPTION_KEY_ID = activeKeyId;
  // A generous command deadline: a pause of this process on a loaded machine must not fail a healthy call.
  const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, envFile: false, env, commandTimeoutMs: 5000 });
  open.push(cache);
  return cache;
}

/** The stored bytes of a key, exactly. */
async function bytesOf(key: string): Promise<Buffer> {
  const value = (await raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get(key)) as unknown;
  if (!Buffer.isBuffer(value)) throw new Error(`no bytes at ${key}`);
  return value;
}

beforeAll(async () => {
  server = await startRedisServer();
  raw = createClient({ url: server.url });
  await raw.connect();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await raw.close();
  await server.stop();
});

describe('encryption at rest', () => {
  const prediction = { customer: 'CUST001', risk_score: 0.8731, decision: 'decline-4242' };

  it('stores ciphertext for the chosen kinds and plaintext for the others', async () => {
    prefix = uniquePrefix();
    const cache = make(`k1:${K1}`);
    const key = cache.keys.key('prediction', 'CUST001', 'credit');
    expect(await cache.set(key, prediction)).toBe(true);
    expect(await cache.set('generic', 'decline-4242')).toBe(true);
    const stored = (await raw.get(key.key)) ?? '';
    expect(stored).not.toContain('decline-4242');
    expect(stored).not.toContain('0.8731');
    const bytes = await bytesOf(key.key);
    expect(bytes[5]).toBe(1); // AES-256-GCM
    expect(bytes.subarray(7, 9).toString()).toBe('k1');
    expect(await raw.get(cache.keys.key('kv', 'generic').key)).toContain('decline-4242');
    expect(await cache.get(key)).toEqual(prediction);
  });

  it('rotates: a new active key reads what the old one wrote, and writes with the new one', async () => {
    prefix = uniquePrefix();
    const old = make(`k1:${K1}`);
    const key = old.keys.key('prediction', 'CUST002', 'credit');
    await old.set(key, prediction);
    const rotated = make(`k2:${K2},k1:${K1}`, 'k2');
    expect(await rotated.get(key)).toEqual(prediction);
    const fresh = rotated.keys.key('prediction', 'CUST003', 'credit');
    await rotated.set(fresh, prediction);
    // A reader that dropped k1 still reads k2's values, and misses k1's with a reason.
    const newOnly = make(`k2:${K2}`);
    const errors = errorsOf(newOnly);
    expect(await newOnly.get(fresh)).toEqual(prediction);
    expect(await newOnly.get(key)).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error.code).toBe('E_PAYLOAD_UNSUPPORTED');
    expect(errors[0]!.error.message).toMatch(/key id "k1".*not in CACHE_ENCRYPTION_KEYS/);
  });

  it('reads tampered, moved, foreign and downgraded values as misses with an error event', async () => {
    prefix = uniquePrefix();
    const cache = make(`k1:${K1}`);
    const errors = errorsOf(cache);
    const a = cache.keys.key('prediction', 'CUST-A', 'credit');
    const b = cache.keys.key('prediction', 'CUST-B', 'credit');
    await cache.set(a, { ...prediction, customer: 'A' });
    await cache.set(b, { ...prediction, customer: 'B' });

    // Moved: B's ciphertext copied under A's key (the key is authenticated data).
    await raw.set(a.key, await bytesOf(b.key));
    expect(await cache.get(a)).toBeNull();
    // Tampered: one byte of the ciphertext flipped.
    const tampered = Buffer.from(await bytesOf(b.key));
    tampered[tampered.length - 20] = tampered[tampered.length - 20]! ^ 0x01;
    await raw.set(b.key, tampered);
    expect(await cache.get(b)).toBeNull();
    // Foreign: written under another keyring that also calls its key k1.
    const foreign = make(`k1:${OTHER_K1}`);
    const c = cache.keys.key('prediction', 'CUST-C', 'credit');
    await foreign.set(c, prediction);
    expect(await cache.get(c)).toBeNull();
    // Downgraded: a plaintext envelope where encryption is required.
    const plain = createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, commandTimeoutMs: 5000 });
    open.push(plain);
    const d = cache.keys.key('prediction', 'CUST-D', 'credit');
    await plain.set(d, { ...prediction, decision: 'approve' });
    expect(await cache.get(d)).toBeNull();

    expect(errors.map((e) => e.error.code)).toEqual(['E_PAYLOAD_CORRUPT', 'E_PAYLOAD_CORRUPT', 'E_PAYLOAD_CORRUPT', 'E_PAYLOAD_CORRUPT']);
    expect(errors.map((e) => e.key)).toEqual([a.key, b.key, c.key, d.key]);
    expect(errors[3]!.error.message).toMatch(/not encrypted/);
  });
});
