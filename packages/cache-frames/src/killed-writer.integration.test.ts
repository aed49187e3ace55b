// What a writer killed with SIGKILL leaves, at several points of a write of a `ttl: null` table
// (issue 22, finding 4: it left chunks without TTL, invisible to list-df and info-df, never
// removed): every chunk it stored has a TTL, the table is one whole version, and the next write
// of the name (once the dead writer's chunks show it is gone) or deleteDataFrame removes them.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createCache, type Cache } from '@finrisk/cache-core';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import * as aq from 'arquero';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFrameCache, type FrameCache } from './frame-cache.js';

const CHILD = fileURLToPath(new URL('../test/killed-writer-child.ts', import.meta.url));
const STAGING_SECONDS = 10; // as in the child

const previous = aq.table({ id: Int32Array.from({ length: 5000 }, (_, i) => i), note: Array.from({ length: 5000 }, (_, i) => `previous-${i}`) });

/** Runs the child writer to `point`; resolves to the signal that ended it. */
function runChild(url: string, prefix: string, point: string): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, prefix, point], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stderr }));
  });
}

describe('a table writer killed with SIGKILL (single node)', () => {
  let server: RedisServer;
  const caches: Cache[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await server?.stop();
  });

  function open(prefix: string): FrameCache {
    const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, commandTimeoutMs: 2000, envFile: false, env: {} });
    caches.push(cache);
    return createFrameCache(cache, { chunkBytes: 16 * 1024, maxBytesInFlight: 256 * 1024, stagingSeconds: STAGING_SECONDS });
  }

  // The table's keys (the cache's fleet statistics live beside them under the same prefix).
  const keysOf = (prefix: string) => server.cli('--scan', '--pattern', `${prefix}:dataframe:*`).split('\n').filter(Boolean).sort();
  /** Every key of the table with its PTTL, read in one script: one by one, 300 keys take longer than the staging TTL. */
  const ttlsOf = (prefix: string): [string, number][] => {
    const script = "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do out[#out + 1] = k; out[#out + 1] = redis.call('PTTL', k) end return out";
    const flat = server.cli('EVAL', script, '0', `${prefix}:dataframe:*`).split('\n').filter(Boolean);
    const pairs: [string, number][] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, Number(flat[i + 1])]);
    return pairs;
  };
  const versionOfChunk = (key: string) => /:chunk:([0-9a-z]+):\d+$/.exec(key)?.[1];
  const chunkVersions = (prefix: string) => [...new Set(keysOf(prefix).map(versionOfChunk).filter((v): v is string => v !== undefined))];

  /** Every key without a TTL is the committed table: its manifest (no TTL) and the chunks of the version it names. */
  async function expectNoStrayKeyWithoutTtl(frames: FrameCache, prefix: string): Promise<string> {
    const current = (await frames.getDataFrameInfo('t'))!.version;
    for (const [key, ttl] of ttlsOf(prefix)) {
      if (ttl >= 0) continue;
      expect(ttl, key).toBe(-1);
      expect([`${prefix}:dataframe:t:manifest`, current], `${key} has no TTL`).toContain(key.endsWith(':manifest') ? key : versionOfChunk(key));
    }
    return current;
  }

  it.each(['chunk:1', 'chunk:40', 'chunk:200', 'staged'])(
    'killed at %s: every chunk it stored has a TTL, the previous table reads whole, and the next write removes them',
    { timeout: 180_000 },
    async (point) => {
      const prefix = uniquePrefix('killed');
      const frames = open(prefix);
      expect(await frames.cacheDataFrame('t', previous, { ttl: null })).toBe(true);
      const kept = (await frames.getDataFrameInfo('t'))!.version;

      const { signal, stderr } = await runChild(server.url, prefix, point);
      expect(stderr).toBe('');
      expect(signal).toBe('SIGKILL');
      const dead = chunkVersions(prefix).filter((v) => v !== kept);
      expect(dead).toHaveLength(1);
      expect(await expectNoStrayKeyWithoutTtl(frames, prefix)).toBe(kept);
      const orphans = ttlsOf(prefix).filter(([k]) => versionOfChunk(k) === dead[0]);
      expect(orphans.length).toBeGreaterThan(0);
      for (const [key, ttl] of orphans) expect(ttl, key).toBeGreaterThan(0);
      expect((await frames.getCachedDataFrame('t'))!.objects()).toEqual(previous.objects());

      // Its chunks show the writer is gone once their TTL is below half the staging TTL (no
      // renewal for a quarter of it): from then on, the next write of the name removes them.
      await expect.poll(() => Number(server.cli('PTTL', `${prefix}:dataframe:t:chunk:${dead[0]}:0`)), { timeout: 30_000, interval: 250 }).toBeLessThan((STAGING_SECONDS * 1000) / 2);
      const next = aq.table({ id: [1, 2, 3] });
      expect(await frames.cacheDataFrame('t', next, { ttl: null })).toBe(true);
      const now = (await frames.getDataFrameInfo('t'))!.version;
      expect(chunkVersions(prefix)).toEqual([now]);
      expect(keysOf(prefix).filter((k) => !k.includes(':chunk:'))).toEqual([`${prefix}:dataframe:t:manifest`]);
    },
  );

  it('killed once the manifest SET answered: the new table reads whole, and every key has a TTL until the next write', { timeout: 180_000 }, async () => {
    const prefix = uniquePrefix('killed');
    const frames = open(prefix);
    expect(await frames.cacheDataFrame('t', previous, { ttl: null })).toBe(true);
    const kept = (await frames.getDataFrameInfo('t'))!.version;

    const { signal, stderr } = await runChild(server.url, prefix, 'switched');
    expect(stderr).toBe('');
    expect(signal).toBe('SIGKILL');
    const switched = (await frames.getDataFrameInfo('t'))!.version;
    expect(switched).not.toBe(kept);
    for (const [key, ttl] of ttlsOf(prefix)) expect(ttl, key).toBeGreaterThan(0);
    expect((await frames.getCachedDataFrame('t'))!.numRows()).toBe(200_000);

    // The next write replaces it; what it does not remove has a TTL and goes with it.
    expect(await frames.cacheDataFrame('t', aq.table({ id: [1] }), { ttl: null })).toBe(true);
    const now = (await frames.getDataFrameInfo('t'))!.version;
    await expect.poll(() => chunkVersions(prefix), { timeout: 30_000, interval: 250 }).toEqual([now]);
  });

  it('deleteDataFrame removes a killed writer\'s chunks at once, with the table', { timeout: 180_000 }, async () => {
    const prefix = uniquePrefix('killed');
    const frames = open(prefix);
    expect(await frames.cacheDataFrame('t', previous, { ttl: null })).toBe(true);
    expect((await runChild(server.url, prefix, 'chunk:40')).signal).toBe('SIGKILL');
    expect(chunkVersions(prefix)).toHaveLength(2);
    expect(await frames.deleteDataFrame('t')).toBe(true);
    expect(keysOf(prefix)).toEqual([]);
  });
});
