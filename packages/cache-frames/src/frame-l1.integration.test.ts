import { createCache, type Cache, type CreateCacheOptions } from '@finrisk/cache-core';
import { topologies, uniquePrefix } from '@finrisk/test-utils';
import { untilL1Serves, useDeployment } from '@finrisk/test-utils/fixtures';
import { dictionary, utf8 } from '@uwdata/flechette';
import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { createFrameCache } from './frame-cache.js';

// With the cache's L1 tier on, a decoded table is kept beside its manifest: a hot read, or a
// read of some of its columns, transfers no chunk; a new version written by anyone is read anew.
describe.each(topologies)('frames with the L1 tier on Redis ($name)', (topology) => {
  const fixture = useDeployment(topology);
  let prefix: string;

  async function make(l1Mb: number): Promise<Cache> {
    const cache = fixture.track(createCache({ ...fixture.deployment.connection, backend: 'redis', keyPrefix: prefix, commandTimeoutMs: 10_000, envFile: false, env: {}, l1: { maxMb: l1Mb } } as CreateCacheOptions));
    await cache.connect();
    return l1Mb > 0 ? untilL1Serves(cache) : cache;
  }

  const table = (n: number, tag: string) =>
    aq.table({ id: Array.from({ length: n }, (_, i) => i), score: Array.from({ length: n }, (_, i) => i / n), label: Array.from({ length: n }, (_, i) => `${tag}-${i % 7}`) });
  const mgets = () => fixture.deployment.calls('mget') + fixture.deployment.calls('get');

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
    const chunkReadsBefore = fixture.deployment.calls('mget');
    const whole = await reader.getCachedDataFrame('wide');
    expect(whole?.columnNames()).toEqual(['id', 'score', 'label']);
    expect(whole?.get('score', 1000)).toBe(0.5);
    expect(fixture.deployment.calls('mget')).toBeGreaterThan(chunkReadsBefore);
    const before = mgets();
    expect((await reader.getCachedDataFrame('wide'))?.numRows()).toBe(2000);
    expect((await reader.getCachedDataFrame('wide', { columns: ['score'] }))?.numRows()).toBe(2000);
    expect(mgets()).toBe(before);
  });

  it('a caller that changes every array it can reach changes nothing for the next reader (issue 22: toArray() was a view of L1)', async () => {
    prefix = uniquePrefix('framel1');
    const reader = createFrameCache(await make(64));
    const writer = createFrameCache(await make(0));
    const n = 3000;
    const source = aq.table({
      id: Int32Array.from({ length: n }, (_, i) => i),
      score: Float64Array.from({ length: n }, (_, i) => i / 7),
      label: Array.from({ length: n }, (_, i) => `label-${i % 11}`),
      region: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : ['north', 'south'][i % 2]!)),
      flag: Array.from({ length: n }, (_, i) => i % 3 === 0),
      day: Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1 + (i % 300)))),
    });
    const expected = source.objects();
    expect(await writer.cacheDataFrame('shared', source, { types: { region: dictionary(utf8()) } })).toBe(true);
    await reader.cache.syncLocal();

    /** Writes over everything a caller can reach from a table: arrays, batches, caches (arquero freezes its column set). */
    const vandalize = (table: aq.ColumnTable) => {
      for (const name of table.columnNames()) {
        const column = table.column(name) as unknown as Record<string, any>;
        const scribble = (a: any) => {
          if (ArrayBuffer.isView(a) && !(a instanceof DataView)) (a as Uint8Array).fill(a instanceof BigInt64Array ? (0n as never) : 7);
          else if (Array.isArray(a)) { a.reverse(); a.fill('vandal'); }
        };
        scribble(table.array(name));
        scribble(column.toArray?.());
        for (const batch of column.data ?? []) {
          scribble(batch.values); scribble(batch.validity); scribble(batch.offsets); scribble(batch.cache);
          if (batch.dictionary) { scribble(batch.dictionary.cache?.()); for (const b of batch.dictionary.data) scribble(b.values); }
        }
        const groups = column.groups?.([name]);
        if (groups) { scribble(groups.keys); scribble(groups.rows); }
      }
    };

    vandalize((await reader.getCachedDataFrame('shared'))!); // the read that fills L1
    const before = fixture.deployment.calls('mget');
    const hot = (await reader.getCachedDataFrame('shared'))!;
    expect(fixture.deployment.calls('mget')).toBe(before); // from L1
    expect(hot.objects()).toEqual(expected);
    vandalize(hot);
    expect((await reader.getCachedDataFrame('shared', { columns: ['region', 'id'] }))!.objects()).toEqual(source.select('region', 'id').objects());
    const sorted = (await reader.getCachedDataFrame('shared'))!;
    (sorted.array('score') as Float64Array).sort().reverse();
    expect((await reader.getCachedDataFrame('shared'))!.objects()).toEqual(expected);
    expect(fixture.deployment.calls('mget')).toBe(before);
  });

  it('keeps no table larger than its per-entry cap: those are read from Redis every time', async () => {
    prefix = uniquePrefix('framel1');
    const cache = await make(1); // a quarter MiB per entry
    const frames = createFrameCache(cache);
    expect(await frames.cacheDataFrame('big', table(50_000, 'b'))).toBe(true);
    await cache.syncLocal();
    await frames.getCachedDataFrame('big');
    const before = fixture.deployment.calls('mget');
    expect((await frames.getCachedDataFrame('big'))?.numRows()).toBe(50_000);
    expect(fixture.deployment.calls('mget')).toBeGreaterThan(before);
    expect(cache.processStats().l1!.bytes).toBeLessThanOrEqual(1024 * 1024);
  });
});
