import { createCache, FinRiskCacheError, type Cache } from '@finrisk/cache-core';
import * as aq from 'arquero';
import { afterAll, describe, expect, it } from 'vitest';
import { createFrameCache } from './frame-cache.js';
import { MAX_TIMER_MS, type FrameCacheOptions } from './frame-options.js';
import { TransferWindow } from './transfer.js';

const cache: Cache = createCache({ backend: 'memory', envFile: false, env: {} });
afterAll(() => cache.close());

function configError(options: FrameCacheOptions): FinRiskCacheError {
  try {
    createFrameCache(cache, options);
  } catch (error) {
    expect(FinRiskCacheError.hasCode(error, 'E_INVALID_CONFIG')).toBe(true);
    return error as FinRiskCacheError;
  }
  throw new Error(`${JSON.stringify(options)} was accepted`);
}

describe('frame cache options', () => {
  it('refuses a deadline a timer cannot wait and a negative grace (both were accepted silently)', () => {
    expect(configError({ transferMsPerMiB: 1e9 }).message).toBe('frame cache option transferMsPerMiB must be a number of ms per MiB from more than 0 to 60000, got 1000000000');
    expect(configError({ chunkGraceSeconds: -100 }).message).toBe('frame cache option chunkGraceSeconds must be a number of seconds from 0 to 31536000, got -100');
  });

  it('names every option and its range', () => {
    const cases: [FrameCacheOptions, string][] = [
      [{ chunkBytes: 100 }, 'chunkBytes must be a whole number of bytes from 1024 to 1073741824'],
      [{ chunkBytes: 4096.5 }, 'chunkBytes must be a whole number of bytes'],
      [{ compression: 'zstd' as never }, "compression must be 'none' or 'deflate', got \"zstd\""],
      [{ maxTableBytes: Number.NaN }, 'maxTableBytes must be a whole number of bytes from 1024 to 1099511627776, got NaN'],
      [{ maxBytesInFlight: 0 }, 'maxBytesInFlight must be a whole number of bytes from 1024 to 4294967296, got 0'],
      [{ maxBytesInFlight: '16' as never }, 'maxBytesInFlight must be a whole number of bytes from 1024 to 4294967296, got "16"'],
      [{ transferMsPerMiB: 0 }, 'transferMsPerMiB must be a number of ms per MiB from more than 0 to 60000, got 0'],
      [{ transferMsPerMiB: Infinity }, 'got Infinity'],
      [{ chunkGraceSeconds: 1e12 }, 'chunkGraceSeconds must be a number of seconds from 0 to 31536000'],
      [{ stagingSeconds: 0 }, 'stagingSeconds must be a number of seconds from 1 to 86400, got 0'],
    ];
    for (const [options, message] of cases) expect(configError(options).message, JSON.stringify(options)).toContain(message);
  });

  it('refuses a staging TTL shorter than 4 chunk deadlines, and sizes the default from them', () => {
    // 250 ms + 250 ms/MiB × (16 + 4) MiB = 5,250 ms: at least 21 s.
    expect(configError({ stagingSeconds: 20 }).message).toContain('stagingSeconds must be at least 4 times the longest chunk deadline (5250 ms');
    expect(createFrameCache(cache, { stagingSeconds: 21 }).options.stagingSeconds).toBe(21);
    expect(createFrameCache(cache).options).toEqual({
      chunkBytes: 4 * 1024 * 1024, compression: 'none', maxTableBytes: 1024 ** 3, maxBytesInFlight: 16 * 1024 * 1024, transferMsPerMiB: 250, chunkGraceSeconds: 60,
      stagingSeconds: 60,
    });
    expect(createFrameCache(cache, { transferMsPerMiB: 2000 }).options.stagingSeconds).toBe(Math.ceil((8 * (250 + 2000 * 20)) / 1000));
  });

  it('refuses bad call options with E_INVALID_VALUE naming them', async () => {
    const frames = createFrameCache(cache);
    const table = aq.table({ a: [1] });
    await expect(frames.cacheDataFrame('t', table, { onProgress: 'yes' as never })).rejects.toThrow('cacheDataFrame("t"): onProgress must be a function, got string');
    await expect(frames.cacheDataFrame('t', table, { types: [] as never })).rejects.toThrow('types must be an object of Arrow types by column, got an array');
    await expect(frames.getCachedDataFrame('t', { columns: 'a' as never })).rejects.toThrow('getCachedDataFrame("t"): columns must be an array of column names, got string');
  });
});

describe('chunk deadlines', () => {
  it('never exceed what a timer can wait (2^31 - 1 ms; longer fired after 1 ms)', async () => {
    const window = new TransferWindow(() => 64 * 1024 ** 3, 250, 1e9);
    expect(await window.acquire(4 * 1024 * 1024)).toBe(MAX_TIMER_MS); // 250 + 4e9 ms
    const normal = new TransferWindow(() => 16 * 1024 ** 2, 250, 250);
    expect(await normal.acquire(4 * 1024 * 1024)).toBe(1250);
  });
});
