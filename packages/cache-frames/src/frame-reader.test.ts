import { deflateRawSync } from 'node:zlib';
import { createCache, type Cache } from '@finrisk/cache-core';
import * as aq from 'arquero';
import { afterEach, describe, expect, it } from 'vitest';
import { checksum } from './checksum.js';
import { createFrameCache } from './frame-cache.js';
import type { FrameCacheOptions } from './frame-options.js';
import type { FrameErrorEvent } from './frame-context.js';
import type { FrameManifest } from './manifest.js';

const MIB = 1024 * 1024;
let cache: Cache | undefined;
afterEach(async () => {
  await cache?.close();
});

/** A deflate table of one chunk on a memory cache, and a way to swap that chunk for other bytes. */
async function oneChunkTable(options: FrameCacheOptions = {}, maxValueBytes = 8 * MIB) {
  cache = createCache({ backend: 'memory', envFile: false, maxValueBytes });
  const frames = createFrameCache(cache, { compression: 'deflate', ...options });
  const events: FrameErrorEvent[] = [];
  frames.on('error', (e) => events.push(e));
  expect(await frames.cacheDataFrame('t', aq.table({ x: [1, 2, 3] }))).toBe(true);
  const c = cache;
  const manifestKey = c.keys.key('dataframe', 't', 'manifest');
  const manifest = (await c.get<FrameManifest>(manifestKey))!;
  /** Stores `stored` as the chunk, with a manifest whose size and checksum match it; `rawBytes` as given (undefined: a manifest from before 0.2). */
  const swap = async (stored: Uint8Array, rawBytes: number | undefined) => {
    const chunk = { ...manifest.columns[0]!.chunks[0]!, bytes: stored.byteLength, checksum: checksum(stored), rawBytes };
    if (rawBytes === undefined) delete chunk.rawBytes;
    const forged = { ...manifest, bytes: stored.byteLength, columns: [{ ...manifest.columns[0]!, bytes: stored.byteLength, chunks: [chunk] }] };
    await c.set(c.keys.key('dataframe', 't', 'chunk', manifest.version, String(chunk.index)), stored, { compress: false });
    await c.set(manifestKey, forged);
  };
  return { frames, events, manifest, swap };
}

describe('reading deflated chunks', () => {
  it('records each chunk\'s size before compression, and reads it back', async () => {
    const { frames, manifest } = await oneChunkTable();
    const chunk = manifest.columns[0]!.chunks[0]!;
    expect(chunk.rawBytes).toBeGreaterThan(chunk.bytes);
    expect((await frames.getCachedDataFrame('t'))!.array('x')).toEqual([1, 2, 3]);
  });

  it('stops a chunk at the size its manifest records: a deflate bomb is a corrupt chunk', async () => {
    const { frames, events, manifest, swap } = await oneChunkTable();
    const bomb = deflateRawSync(new Uint8Array(64 * MIB));
    await swap(bomb, manifest.columns[0]!.chunks[0]!.rawBytes);
    expect(await frames.getCachedDataFrame('t')).toBeNull();
    expect(events.at(-1)!.error.reason).toBe('CHUNK_CORRUPT');
    expect(events.at(-1)!.error.message).toContain(`inflates to more than ${manifest.columns[0]!.chunks[0]!.rawBytes} bytes (the size its manifest records)`);
  });

  it('stops a chunk of a manifest without sizes at the cache\'s maxValueBytes', async () => {
    const { frames, events, swap } = await oneChunkTable();
    await swap(deflateRawSync(new Uint8Array(64 * MIB)), undefined);
    expect(await frames.getCachedDataFrame('t')).toBeNull();
    expect(events.at(-1)!.error.message).toContain(`inflates to more than ${8 * MIB} bytes (maxValueBytes`);
  });

  it('stops the whole read at maxTableBytes', async () => {
    const { frames, events, swap } = await oneChunkTable({ maxTableBytes: 2 * MIB });
    await swap(deflateRawSync(new Uint8Array(6 * MIB)), undefined);
    expect(await frames.getCachedDataFrame('t')).toBeNull();
    expect(events.at(-1)!.error.message).toContain(`inflates to more than ${2 * MIB} bytes (maxValueBytes, or what is left of maxTableBytes`);
  });

  it('refuses a manifest that claims more than maxValueBytes for a chunk, and one that inflates short of its claim', async () => {
    const { frames, events, manifest, swap } = await oneChunkTable();
    await swap(deflateRawSync(new Uint8Array(16 * MIB)), 16 * MIB);
    expect(await frames.getCachedDataFrame('t')).toBeNull();
    expect(events.at(-1)!.error.reason).toBe('MANIFEST_CORRUPT');
    const raw = manifest.columns[0]!.chunks[0]!.rawBytes!;
    await swap(deflateRawSync(new Uint8Array(raw - 1)), raw);
    expect(await frames.getCachedDataFrame('t')).toBeNull();
    expect(events.at(-1)!.error.message).toContain(`inflates to ${raw - 1} bytes, its manifest says ${raw}`);
  });

  it('refuses a chunk whose stored size is not the manifest\'s, before its checksum', async () => {
    const { frames, events, manifest, swap } = await oneChunkTable();
    await swap(deflateRawSync(new Uint8Array(10)), manifest.columns[0]!.chunks[0]!.rawBytes);
    const c = cache!;
    const key = c.keys.key('dataframe', 't', 'chunk', manifest.version, String(manifest.columns[0]!.chunks[0]!.index));
    await c.set(key, new Uint8Array(3), { compress: false });
    expect(await frames.getCachedDataFrame('t')).toBeNull();
    expect(events.at(-1)!.error.message).toContain('holds 3 bytes, the manifest says');
  });
});

describe('writing', () => {
  it('refuses a chunk larger than maxValueBytes before compression, which no reader would inflate', async () => {
    cache = createCache({ backend: 'memory', envFile: false, maxValueBytes: 64 * 1024 });
    const frames = createFrameCache(cache, { compression: 'deflate' });
    // One cell of 100 KB: a batch (and a chunk) cannot be smaller than its largest value.
    await expect(frames.cacheDataFrame('wide', aq.table({ s: ['x'.repeat(100_000)] }))).rejects.toMatchObject({ reason: 'TABLE_TOO_LARGE' });
    expect(await frames.listDataFrames()).toEqual([]);
  });
});
