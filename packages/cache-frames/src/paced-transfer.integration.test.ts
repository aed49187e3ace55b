// Tables bigger than one deadline's worth of bytes, through a slow link (the fault proxy's
// bandwidth limit and latency): each chunk is its own command under a deadline that grows with
// the bytes in flight with it, so a slow link slows a table down instead of failing it; a link
// too slow for the deadlines still fails the whole table, atomically. Progress is reported per chunk.
import { createCache, type Cache, type CacheErrorEvent } from '@finrisk/cache-core';
import { redisCluster, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { useSlowLink } from '@finrisk/test-utils/fixtures';
import * as aq from 'arquero';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameErrorEvent } from './frame-context.js';
import { createFrameCache } from './frame-cache.js';
import type { FrameProgress } from './transfer.js';

const MIB = 1024 * 1024;

/** `rows` float64 values and int32 ids: 12 bytes a row of Arrow data, deterministic. */
function numbers(rows: number) {
  const id = new Int32Array(rows);
  const amount = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    id[i] = i;
    amount[i] = (i * 7919) % 100_003 / 7;
  }
  return aq.table({ id, amount });
}

function sameTable(a: aq.ColumnTable, b: aq.ColumnTable | null): void {
  expect(b).not.toBeNull();
  expect(b!.numRows()).toBe(a.numRows());
  for (const name of a.columnNames()) {
    const x = a.array(name) as ArrayLike<number>;
    const y = b!.array(name) as ArrayLike<number>;
    // Every 997th value and the last: a wrong chunk order or a lost chunk shows up.
    for (let i = 0; i < x.length; i += 997) expect(y[i]).toBe(x[i]);
    expect(y[x.length - 1]).toBe(x[x.length - 1]);
  }
}

describe('paced transfers through a slow link (single node)', () => {
  const link = useSlowLink();

  function open(commandTimeoutMs: number) {
    const cache = createCache({ url: link.proxy.url, backend: 'redis', keyPrefix: uniquePrefix('paced'), commandTimeoutMs, breakerThreshold: 1_000_000, envFile: false, env: {} });
    link.track(cache);
    const errors: CacheErrorEvent[] = [];
    cache.on('error', (e) => errors.push(e));
    return { cache, errors };
  }

  // Encoding and decoding 1.5M rows and carrying ~54 MiB through the in-process proxy is CPU
  // work with nothing to wait for: over the 30 s default on a loaded two-core machine.
  it('writes and reads a table many deadlines long, and one command of the same bytes fails', { timeout: 120_000 }, async () => {
    // 1.5M rows: about 18 MiB of chunks. At 16 MiB/s a 100 ms deadline carries 1.6 MiB.
    const { cache, errors } = open(100);
    const frames = createFrameCache(cache);
    const table = numbers(1_500_000);
    await cache.connect();
    link.proxy.setBandwidth(16 * MIB);

    const writes: FrameProgress[] = [];
    expect(await frames.cacheDataFrame('big', table, { onProgress: (p) => writes.push(p) })).toBe(true);
    const reads: FrameProgress[] = [];
    const back = await frames.getCachedDataFrame('big', { onProgress: (p) => reads.push(p) });
    sameTable(table, back);
    expect(errors).toEqual([]);

    const info = (await frames.getDataFrameInfo('big'))!;
    expect(info.bytes).toBeGreaterThan(16 * MIB);
    for (const [events, operation] of [[writes, 'write'], [reads, 'read']] as const) {
      expect(events.length).toBe(info.chunks + 1);
      expect(events.every((e) => e.operation === operation && e.table === 'big' && e.totalRows === 1_500_000)).toBe(true);
      for (let i = 1; i < events.length; i++) {
        expect(events[i]!.bytes).toBeGreaterThanOrEqual(events[i - 1]!.bytes);
        expect(events[i]!.rows).toBeGreaterThanOrEqual(events[i - 1]!.rows);
        expect(events[i]!.elapsedMs).toBeGreaterThanOrEqual(events[i - 1]!.elapsedMs);
      }
      const last = events.at(-1)!;
      expect(last).toMatchObject({ done: true, bytes: info.bytes, totalBytes: info.bytes, rows: 1_500_000, chunks: info.chunks, totalChunks: info.chunks });
      expect(events.slice(0, -1).every((e) => !e.done)).toBe(true);
    }
    // A read knows its totals from the manifest from the first chunk on.
    expect(reads[0]!.totalBytes).toBe(info.bytes);

    // What one deadline for the whole transfer did before: the single command runs out of time
    // (18 MiB need 1.1 s at 16 MiB/s, its deadline is 100 ms + 1 ms per 64 KiB = 388 ms; far
    // enough apart that the stalls of a loaded test process, which deadlines leave out, cannot
    // make up the difference). Last, as its bytes keep the link busy after it failed. The size of
    // the table, not 40 MiB: more bytes prove nothing more and cost a loaded machine seconds.
    const blob = new Uint8Array(18 * MIB);
    expect(await cache.set('blob', blob, { compress: false })).toBe(false);
    expect(errors.map((e) => e.error.code)).toContain('E_TIMEOUT');
  });

  it('works through added latency as well (each chunk command waits a round trip)', async () => {
    const { cache, errors } = open(250);
    const frames = createFrameCache(cache, { chunkBytes: 256 * 1024 });
    const table = numbers(400_000); // about 4.6 MiB: 19 chunks
    await cache.connect();
    link.proxy.setLatency(40);
    link.proxy.setBandwidth(32 * MIB);
    expect(await frames.cacheDataFrame('lagged', table)).toBe(true);
    sameTable(table, await frames.getCachedDataFrame('lagged'));
    expect(errors).toEqual([]);
  });

  it('a link too slow for the deadlines fails the whole table: no chunk left, the old table still read, a miss with the cause', async () => {
    const { cache, errors } = open(100);
    const frames = createFrameCache(cache, { chunkBytes: 1 * MIB });
    const frameErrors: FrameErrorEvent[] = [];
    frames.on('error', (e) => frameErrors.push(e));
    const before = numbers(1000);
    expect(await frames.cacheDataFrame('t', before)).toBe(true);
    const keysBefore = link.server.cli('--scan', '--pattern', '*:chunk:*').trim().split('\n').filter(Boolean).sort();

    // 256 KiB/s: a 1 MiB chunk needs 4 s, its deadline is 100 + 250 × (MiB in flight) ms.
    link.proxy.setBandwidth(256 * 1024);
    expect(await frames.cacheDataFrame('t', numbers(600_000))).toBe(false);
    expect(errors.map((e) => e.error.code)).toContain('E_TIMEOUT');
    link.proxy.heal();
    // The replies of the timed-out commands may still arrive; what was written is deleted.
    await expect.poll(() => link.server.cli('--scan', '--pattern', '*:chunk:*').trim().split('\n').filter(Boolean).sort(), { timeout: 30_000 }).toEqual(keysBefore);
    sameTable(before, await frames.getCachedDataFrame('t'));

    // A read through the same slow link: a miss, with the timeout as the reason (no chunk was lost).
    expect(await frames.cacheDataFrame('t', numbers(600_000))).toBe(true);
    errors.length = 0;
    link.proxy.setBandwidth(256 * 1024);
    expect(await frames.getCachedDataFrame('t')).toBeNull();
    expect(errors.map((e) => e.error.code)).toContain('E_TIMEOUT');
    expect(frameErrors).toEqual([]);
  });

  it('a progress listener that throws aborts the write (its chunks removed) and the read', async () => {
    const { cache } = open(2000);
    const frames = createFrameCache(cache, { chunkBytes: 64 * 1024 });
    const table = numbers(50_000);
    const stop = new Error('stop here');
    let calls = 0;
    await expect(frames.cacheDataFrame('abort', table, { onProgress: () => { if (++calls === 3) throw stop; } })).rejects.toBe(stop);
    expect(link.server.cli('--scan', '--pattern', '*:dataframe:abort:*').trim()).toBe('');
    expect(await frames.getCachedDataFrame('abort')).toBeNull();

    expect(await frames.cacheDataFrame('abort', table)).toBe(true);
    calls = 0;
    await expect(frames.getCachedDataFrame('abort', { onProgress: () => { if (++calls === 2) throw stop; } })).rejects.toBe(stop);
    sameTable(table, await frames.getCachedDataFrame('abort'));
  });
});

describe('paced transfers on a 3-master cluster', () => {
  let deployment: RedisDeployment;
  let cache: Cache;

  beforeAll(async () => {
    deployment = await redisCluster.start();
  });
  afterAll(async () => {
    await cache?.close();
    await deployment?.stop();
  });

  it('spreads the chunks over every master, with a window per master, and reads them back in order', async () => {
    cache = createCache({ ...deployment.connection, backend: 'redis', keyPrefix: uniquePrefix('paced'), envFile: false, env: {} });
    const frames = createFrameCache(cache, { chunkBytes: 128 * 1024 });
    const table = numbers(300_000); // about 3.4 MiB: 28 chunks
    expect(await frames.cacheDataFrame('spread', table)).toBe(true);
    expect(cache.masterCount).toBe(3);
    sameTable(table, await frames.getCachedDataFrame('spread'));
    const masters = deployment.masters();
    expect(masters).toHaveLength(3);
    const perMaster = masters.map((m) => m.cli('--scan', '--pattern', '*:chunk:*').trim().split('\n').filter(Boolean).length);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe((await frames.getDataFrameInfo('spread'))!.chunks);
    expect(perMaster.every((n) => n > 0)).toBe(true);
  });
});
