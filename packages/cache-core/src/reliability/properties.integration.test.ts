// Property-based tests (fast-check) through every store: memory, the embedded SQLite file, and a
// real redis-server. Every accepted value round-trips exactly through the Cache (with and without
// encryption, compression from a low threshold), and a prefix built from one id never reaches
// another id's key (on Redis that exercises the SCAN MATCH escaping).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CacheErrorEvent, type CreateCacheOptions } from '../cache.js';
import { anyId, anyValue } from './arbitraries.js';

let server: RedisServer;
const dir = mkdtempSync(join(tmpdir(), 'finrisk-props-'));
const encryption = { keys: { k1: randomBytes(32) } };

const backends: [string, () => CreateCacheOptions][] = [
  ['memory', () => ({ backend: 'memory' })],
  ['local', () => ({ backend: 'local', localPath: join(dir, 'props.db') })],
  ['redis', () => ({ backend: 'redis', url: server.url })],
];

function make(options: CreateCacheOptions): { cache: Cache; errors: CacheErrorEvent[] } {
  // A generous command deadline (Redis only): a pause of this process on a loaded machine must not fail a healthy call.
  const cache = createCache({ keyPrefix: uniquePrefix(), envFile: false, env: {}, compressionThreshold: 32, commandTimeoutMs: 5000, ...options });
  const errors: CacheErrorEvent[] = [];
  cache.on('error', (e) => errors.push(e));
  return { cache, errors };
}

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(backends)('on the %s store', (_name, options) => {
  it.each([['plain', false], ['encrypted', true]] as const)('every accepted value round-trips exactly (%s)', async (_mode, encrypted) => {
    const { cache, errors } = make({ ...options(), ...(encrypted ? { encryption } : {}) });
    try {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(anyValue, async (value) => {
          const key = `v${n++}`;
          expect(await cache.set(key, value)).toBe(true);
          expect(await cache.get(key)).toStrictEqual(value);
        }),
        { numRuns: 200 },
      );
      // The same values through the batch path.
      const values = fc.sample(anyValue, { numRuns: 50 });
      expect(await cache.setMany(values.map((value, i) => ({ key: `m${i}`, value })))).toBe(true);
      expect(await cache.getMany(values.map((_v, i) => `m${i}`))).toStrictEqual(values);
      expect(errors).toEqual([]);
    } finally {
      await cache.close();
    }
  });

  it("every id reaches its own key, and a prefix built from one id never reaches another id's key", async () => {
    const { cache, errors } = make(options());
    try {
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(anyId, { minLength: 2, maxLength: 8 }), fc.nat(), async (ids, pick) => {
          await cache.deleteByPrefix('');
          await cache.deleteByPrefix(cache.keys.prefixOf('feature'));
          for (const id of ids) {
            expect(await cache.set(id, id)).toBe(true);
            expect(await cache.set(cache.keys.key('feature', id, 'v1'), id)).toBe(true);
          }
          for (const id of ids) expect(await cache.get(id)).toBe(id);
          const id = ids[pick % ids.length]!;
          const byParts: string[] = [];
          for await (const batch of cache.scan({ kind: 'feature', prefix: cache.keys.prefixOf('feature', id) })) byParts.push(...batch);
          expect(byParts).toEqual([cache.keys.key('feature', id, 'v1').key]);
          const startingWith = ids.filter((other) => other.startsWith(id));
          expect(await cache.countByPrefix(id)).toEqual({ count: startingWith.length, complete: true });
          expect(await cache.deleteByPrefix(id)).toEqual({ count: startingWith.length, complete: true });
          for (const other of ids) expect(await cache.get(other)).toBe(other.startsWith(id) ? null : other);
        }),
        { numRuns: 100 },
      );
      expect(errors).toEqual([]);
    } finally {
      await cache.close();
    }
  });
});
