import { createCache } from '@finrisk/cache-core';
import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import type { FrameErrorEvent } from './frame-context.js';
import { createFrameCache } from './frame-cache.js';
import { checkManifest, type FrameManifest } from './manifest.js';

const limits = { maxChunkBytes: 128 * 1024 * 1024, maxTableBytes: 1024 * 1024 * 1024 };

function valid(): FrameManifest {
  return {
    format: 'finrisk-frame', formatVersion: 1, name: 't', version: 'm1abc0123456789', rows: 3, writtenAt: 1_700_000_000_000,
    ttlSeconds: 7200, compression: 'none', bytes: 300,
    columns: [
      { name: 'a', type: 'int32', nullCount: 0, bigint: false, bytes: 100, chunks: [{ index: 0, rows: 3, bytes: 100, rawBytes: 100, checksum: 'crc32:0000abcd' }] },
      {
        name: 'b', type: 'utf8', nullCount: 1, bigint: false, bytes: 200,
        chunks: [{ index: 1, rows: 2, bytes: 150, checksum: 'crc32:0000abce' }, { index: 2, rows: 1, bytes: 50, checksum: 'crc32:0000abcf' }],
      },
    ],
  };
}

/** `valid()` with one change made by `edit`. */
function forged(edit: (m: Record<string, any>) => void): unknown {
  const m = valid() as unknown as Record<string, any>;
  edit(m);
  return m;
}

describe('checkManifest', () => {
  it('accepts what a writer writes, with and without rawBytes', () => {
    expect(checkManifest(valid(), 't', limits)).toEqual({ manifest: valid() });
    expect(checkManifest(forged((m) => { m.compression = 'deflate'; m.columns[0].chunks[0].rawBytes = 4096; m.ttlSeconds = null; }), 't', limits))
      .toHaveProperty('manifest');
  });

  it.each([
    ['rows -1', (m: Record<string, any>) => { m.rows = -1; }],
    ['rows 1e300', (m: Record<string, any>) => { m.rows = 1e300; }],
    ['rows 2.5', (m: Record<string, any>) => { m.rows = 2.5; }],
    ['rows as text', (m: Record<string, any>) => { m.rows = '3'; }],
    ['nullCount NaN', (m: Record<string, any>) => { m.columns[1].nullCount = Number.NaN; }],
    ['nullCount over rows', (m: Record<string, any>) => { m.columns[1].nullCount = 4; }],
    ['bytes -5', (m: Record<string, any>) => { m.bytes = -5; }],
    ['bytes not the sum of the columns', (m: Record<string, any>) => { m.bytes = 301; }],
    ['a column\'s bytes not the sum of its chunks', (m: Record<string, any>) => { m.columns[1].bytes = 10; m.bytes = 110; }],
    ['chunk rows that do not add up to rows', (m: Record<string, any>) => { m.columns[1].chunks[1].rows = 5; }],
    ['a chunk of 1e300 bytes', (m: Record<string, any>) => { m.columns[0].chunks[0].bytes = 1e300; }],
    ['rawBytes over maxValueBytes', (m: Record<string, any>) => { m.compression = 'deflate'; m.columns[0].chunks[0].rawBytes = 2 ** 40; }],
    ['rawBytes unlike bytes when uncompressed', (m: Record<string, any>) => { m.columns[0].chunks[0].rawBytes = 99; }],
    ['two chunks with one index', (m: Record<string, any>) => { m.columns[1].chunks[0].index = 0; }],
    ['a column without chunks', (m: Record<string, any>) => { m.columns[0].chunks = []; m.columns[0].bytes = 0; m.bytes = 200; }],
    ['two columns with one name', (m: Record<string, any>) => { m.columns[1].name = 'a'; }],
    ['a type with an escape sequence', (m: Record<string, any>) => { m.columns[0].type = '\u001b[2Jint32'; }],
    ['a version with a colon', (m: Record<string, any>) => { m.version = 'v:1'; }],
    ['another table\'s name', (m: Record<string, any>) => { m.name = 'other'; }],
    ['writtenAt past what a Date holds', (m: Record<string, any>) => { m.writtenAt = 1e300; }],
    ['ttlSeconds Infinity', (m: Record<string, any>) => { m.ttlSeconds = Infinity; }],
    ['a bad checksum', (m: Record<string, any>) => { m.columns[0].chunks[0].checksum = 'md5:00'; }],
    ['an unknown compression', (m: Record<string, any>) => { m.compression = 'zstd'; }],
    ['columns that are not a list', (m: Record<string, any>) => { m.columns = { 0: {} }; }],
  ])('refuses %s', (_what, edit) => {
    const checked = checkManifest(forged(edit), 't', limits);
    expect(checked).toHaveProperty('problem');
    expect(checked).not.toHaveProperty('manifest');
  });

  it('builds the manifest anew from the checked fields: whatever else the stored object holds is left behind', () => {
    const stored = forged((m) => {
      m.evil = { polluted: true };
      m.columns[0].extra = 'x';
      m.columns[1].chunks[0].note = [1, 2];
    });
    const checked = checkManifest(stored, 't', limits) as { manifest: FrameManifest };
    expect(checked.manifest).toStrictEqual(valid());
    expect(checked.manifest).not.toBe(stored);
    expect(checked.manifest.columns[0]).not.toBe((stored as { columns: unknown[] }).columns[0]);
  });

  it.each([
    ['a column named __proto__ (arquero keeps columns in an object keyed by name)', (m: Record<string, any>) => { m.columns[0].name = '__proto__'; }],
    ['a column name with a lone surrogate', (m: Record<string, any>) => { m.columns[0].name = 'a\ud800'; }],
    ['a column name of 70,000 characters', (m: Record<string, any>) => { m.columns[0].name = 'n'.repeat(70_000); }],
    ['rows over 2^32 - 1', (m: Record<string, any>) => {
      m.rows = 2 ** 33;
      m.columns[0].chunks[0].rows = 2 ** 33;
      m.columns[1].chunks[0].rows = 2 ** 33 - 1;
    }],
    ['70,000 columns', (m: Record<string, any>) => {
      m.columns = Array.from({ length: 70_000 }, (_, i) => ({ name: `c${i}`, type: 'int32', nullCount: 0, bigint: false, bytes: 1, chunks: [{ index: i, rows: 3, bytes: 1, checksum: 'crc32:00000000' }] }));
      m.bytes = 70_000;
    }],
    ['1,100,000 chunks', (m: Record<string, any>) => {
      m.rows = 1_100_000;
      m.columns = [{ name: 'a', type: 'int32', nullCount: 0, bigint: false, bytes: 1_100_000, chunks: Array.from({ length: 1_100_000 }, (_, i) => ({ index: i, rows: 1, bytes: 1, checksum: 'crc32:00000000' })) }];
      m.bytes = 1_100_000;
    }],
  ])('refuses %s', (_what, edit) => {
    const checked = checkManifest(forged(edit), 't', limits);
    expect(checked).toHaveProperty('problem');
  });

  it('reads only the stored object\'s own fields: a polluted Object.prototype fills none it lacks', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.rawBytes = 5; // what a forged fleet-statistics record once did to every process that read it
    try {
      const checked = checkManifest(valid(), 't', limits) as { manifest: FrameManifest };
      expect(checked).toHaveProperty('manifest');
      expect(Object.hasOwn(checked.manifest.columns[1]!.chunks[0]!, 'rawBytes')).toBe(false);
    } finally {
      delete proto.rawBytes;
    }
  });

  it('refuses anything that is not an object', () => {
    for (const value of [null, 42, 'manifest', [valid()]]) expect(checkManifest(value, 't', limits)).toHaveProperty('problem');
  });

  it('says when a manifest is only too large for this reader', () => {
    const checked = checkManifest(valid(), 't', { ...limits, maxTableBytes: 100 });
    expect(checked).toMatchObject({ tooLarge: true, problem: expect.stringContaining('raise maxTableBytes') });
  });
});

describe('a forged manifest in a cache', () => {
  it('is a miss and a MANIFEST_CORRUPT event for info and reads; its numbers are never returned', async () => {
    const cache = createCache({ backend: 'memory', envFile: false });
    try {
      const frames = createFrameCache(cache);
      const events: FrameErrorEvent[] = [];
      frames.on('error', (e) => events.push(e));
      expect(await frames.cacheDataFrame('t', aq.table({ a: [1, 2, 3] }))).toBe(true);
      const key = cache.keys.key('dataframe', 't', 'manifest');
      const real = (await cache.get<FrameManifest>(key))!;
      expect((await frames.getDataFrameInfo('t'))!.rows).toBe(3);
      for (const rows of [-1, 1e300, Number.NaN]) {
        await cache.set(key, { ...real, rows });
        expect(await frames.getDataFrameInfo('t')).toBeNull();
        expect(await frames.getCachedDataFrame('t')).toBeNull();
        expect(events.at(-1)!.error.reason).toBe('MANIFEST_CORRUPT');
        expect(events.at(-1)!.error.code).toBe('E_PAYLOAD_CORRUPT');
      }
      expect(events).toHaveLength(6);
    } finally {
      await cache.close();
    }
  });

  it('does not stop the next write, whatever it holds', async () => {
    const cache = createCache({ backend: 'memory', envFile: false });
    try {
      const frames = createFrameCache(cache);
      expect(await frames.cacheDataFrame('t', aq.table({ a: [1] }))).toBe(true);
      const key = cache.keys.key('dataframe', 't', 'manifest');
      for (const forged of [
        { format: 'finrisk-frame', name: 't', version: '\u0001', columns: [{ chunks: [{ index: 0 }] }] },
        { version: 'v', columns: [{ chunks: [null] }] },
        { version: 'v', columns: [null] },
        'text',
      ]) {
        await cache.set(key, forged);
        expect(await frames.cacheDataFrame('t', aq.table({ a: [2] }))).toBe(true);
        expect((await frames.getCachedDataFrame('t'))!.array('a')).toEqual([2]);
      }
    } finally {
      await cache.close();
    }
  });
});
