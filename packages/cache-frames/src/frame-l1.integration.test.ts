import { createCache, type Cache, type CreateCacheOptions } from '@finrisk/cache-core';
import { topologies, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import * as aq from 'arquero';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFrameCache } from './frame-cache.js';

// With the cache's L1 tier on, a decoded table is kept beside its manifest: a hot read, or a
// read of some of its columns, transfers no chunk; a new version written by anyone is read anew.
describe.each(topologies)('frames with the L1 tier on Redis ($name)', (topology) => {
  let deployment: RedisDeployment;
  const open: Cache[] = [];
  let prefix: string;

  beforeAll(async () => {
    deployment = await topology.start();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await deployment?.stop();
  });

  async function make(l1Mb: number): Promise<Cache> {
    const cache = createCache({ ...deployment.connection, backend: 'redis', keyPrefix: prefix, commandTimeoutMs: 10_000, envFile: false, env: {}, l1: { maxMb: l1Mb } } as CreateCacheOptions);
    open.push(cache);
    await cache.connect();
    for (let i = 0; l1Mb > 0 && cache.processStats().l1?.serving !== true; i++) {
      if (i > 1000) throw new Error('L1 did not start serving');
      await new Promise((r) => setTimeout(r, 10));
    }
    return cache;
  }

  const table = (n: number, tag: string) =>
    aq.table({ id: Array.from({ length: n }, (_, i) => i), score: Array.from({ length: n }, (_, i) => i / n), label: Array.from({ length: n }, (_, i) => `${tag}-${i % 7}`) });
  const mgets = () => deployment.calls('mget') + deployment.calls('get');

  it('reads a hot table, and a column subset of it, without a round trip; a new version is read anew', async () => {
    prefix = uniquePrefix('framel1');
    const reader = createFrameCache(await make(64));
    const writer = createFrameCache(await make(0));
    expect(await writer.cacheDataFrame('customers', table(5000, 'v1'))).toBe(true);
    await reader.cache.syncLocal(); // the write's invalidations have reached the reader
    const first = await reader.getCachedDataFrame('customers');
    expect(first?.numRows()).toBe(5000);
    const before = mgets();
    const hot = await reader.getCachedDataFrame('customers');
    const subset = await reader.getCachedDataFrame('customers', { columns: ['label', 'id'] });
    expect(mgets()).toBe(before); // neither the manifest nor a chunk went to Redis
    expect(hot?.objects({ limit: 2 })).toEqual(first?.objects({ limit: 2 }));
    expect(subset?.columnNames()).toEqual(['label', 'id']);
    expect(subset?.get('label', 3)).toBe('v1-3');
    expect(hot).not.toBe(first); // each caller its own table over the shared columns

    // Another process writes a new version: once the change reached L1, the next read is the new table.
    expect(await writer.cacheDataFrame('customers', table(10, 'v2'))).toBe(true);
    await reader.cache.syncLocal();
    const next = await reader.getCachedDataFrame('customers');
    expect(next?.numRows()).toBe(10);
    expect(next?.get('label', 1)).toBe('v2-1');
    await writer.deleteDataFrame('customers');
    await reader.cache.syncLocal();
    expect(await reader.getCachedDataFrame('customers')).toBeNull();
  });

  it('a subset read first, then the whole table: only the missing columns are transferred', async () => {
    prefix = uniquePrefix('framel1');
    const reader = createFrameCache(await make(64));
    const writer = createFrameCache(await make(0));
    expect(await writer.cacheDataFrame('wide', table(2000, 'w'))).toBe(true);
    await reader.cache.syncLocal();
    expect((await reader.getCachedDataFrame('wide', { columns: ['id'] }))?.columnNames()).toEqual(['id']);
    const chunkReadsBefore = deployment.calls('mget');
    const whole = await reader.getCachedDataFrame('wide');
    expect(whole?.columnNames()).toEqual(['id', 'score', 'label']);
    expect(whole?.get('score', 1000)).toBe(0.5);
    expect(deployment.calls('mget')).toBeGreaterThan(chunkReadsBefore);
    const before = mgets();
    expect((await reader.getCachedDataFrame('wide'))?.numRows()).toBe(2000);
    expect((await reader.getCachedDataFrame('wide', { columns: ['score'] }))?.numRows()).toBe(2000);
    expect(mgets()).toBe(before);
  });

  it('keeps no table larger than its per-entry cap: those are read from Redis every time', async () => {
    prefix = uniquePrefix('framel1');
    const cache = await make(1); // a quarter MiB per entry
    const frames = createFrameCache(cache);
    expect(await frames.cacheDataFrame('big', table(50_000, 'b'))).toBe(true);
    await cache.syncLocal();
    await frames.getCachedDataFrame('big');
    const before = deployment.calls('mget');
    expect((await frames.getCachedDataFrame('big'))?.numRows()).toBe(50_000);
    expect(deployment.calls('mget')).toBeGreaterThan(before);
    expect(cache.processStats().l1!.bytes).toBeLessThanOrEqual(1024 * 1024);
  });
});
