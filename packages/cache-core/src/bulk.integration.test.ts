// Large batches with default deadlines: getMany and setMany go as a bounded window of 1,000-key
// calls, each under its own deadline, so a batch many deadlines long (here through a slow link,
// the fault proxy's bandwidth limit) completes; a per-call `timeoutMs` for transfers whose size
// the caller knows; `throwOnFailure` to tell a miss from a failed read.
import { uniquePrefix } from '@finrisk/test-utils';
import { useSlowLink } from '@finrisk/test-utils/fixtures';
import { describe, expect, it } from 'vitest';
import { createCache, type Cache, type CacheErrorEvent } from './index.js';
import { FinRiskCacheError } from './errors.js';

const MIB = 1024 * 1024;

describe('bulk calls through a slow link', () => {
  const link = useSlowLink();

  function open(options: { commandTimeoutMs?: number; strict?: boolean } = {}) {
    const cache = createCache({ url: link.proxy.url, backend: 'redis', keyPrefix: uniquePrefix('bulk'), breakerThreshold: 1_000_000, envFile: false, env: {}, ...options });
    link.track(cache);
    const errors: CacheErrorEvent[] = [];
    cache.on('error', (e) => errors.push(e));
    return { cache, errors };
  }

  it('writes and reads 50,000 entries with the default deadline, though the whole batch takes several deadlines', async () => {
    const { cache, errors } = open();
    await cache.connect();
    // About 120 bytes a SET on the wire: 6 MB both ways at 8 MB/s is well over one 250 ms deadline
    // (plus 1 ms per 64 KiB), while a window of 8 calls of 1,000 keys takes about 120 ms.
    link.proxy.setBandwidth(8_000_000);
    const entries = Array.from({ length: 50_000 }, (_, i) => ({ key: `k:${i}`, value: { i, score: i / 7, label: `customer-${i}` } }));
    expect(await cache.setMany(entries)).toBe(true);
    const back = await cache.getMany<{ i: number }>(entries.map((e) => e.key));
    expect(back.length).toBe(50_000);
    expect(back.every((v, i) => v?.i === i)).toBe(true);
    expect(errors).toEqual([]);
    expect(cache.processStats().byKind.kv).toMatchObject({ writes: 50_000, writeFailures: 0, hits: 50_000 });
  });

  it('timeoutMs gives a call of known size the time it needs; without it the same call times out', async () => {
    const { cache, errors } = open({ commandTimeoutMs: 50 });
    const big = new Uint8Array(8 * MIB).fill(7);
    expect(await cache.setMany([{ key: 'big', value: big, compress: false }])).toBe(true);
    link.proxy.setBandwidth(8 * MIB); // 8 MiB: about 1 s each way, against a 50 ms deadline
    expect(await cache.getMany(['big'])).toEqual([null]);
    expect(errors.map((e) => e.error.code)).toEqual(['E_TIMEOUT']);
    const [value] = await cache.getMany<Uint8Array>(['big'], { timeoutMs: 20_000 });
    expect(value).toBeInstanceOf(Uint8Array);
    expect((value as Uint8Array).byteLength).toBe(8 * MIB);
    expect(await cache.setMany([{ key: 'big2', value: big, compress: false }], { timeoutMs: 20_000 })).toBe(true);
    await expect(cache.getMany(['big'], { timeoutMs: 0 })).rejects.toMatchObject({ code: 'E_INVALID_CONFIG', message: expect.stringMatching(/timeoutMs/) });
    await expect(cache.setMany([{ key: 'x', value: 1 }], { timeoutMs: Number.NaN })).rejects.toMatchObject({ code: 'E_INVALID_CONFIG' });
  });

  it('throwOnFailure tells a failed read from a miss; both are reported as error events', async () => {
    const { cache, errors } = open({ commandTimeoutMs: 100 });
    expect(await cache.set('here', 1)).toBe(true);
    expect(await cache.getMany(['gone'], { throwOnFailure: true })).toEqual([null]);
    link.proxy.pause();
    const failed = await cache.getMany(['here'], { throwOnFailure: true }).then(() => undefined, (e: unknown) => e);
    expect(failed).toBeInstanceOf(FinRiskCacheError);
    expect((failed as FinRiskCacheError).code).toBe('E_TIMEOUT');
    expect(await cache.getMany(['here'])).toEqual([null]);
    expect(errors.map((e) => e.error.code)).toEqual(['E_TIMEOUT', 'E_TIMEOUT']);
    link.proxy.resume();
    expect(await cache.getMany(['here'], { throwOnFailure: true })).toEqual([1]);
  });

  it('a setMany whose pipeline fails sends no further one and counts every entry not stored', async () => {
    const { cache } = open({ commandTimeoutMs: 100 });
    await cache.connect();
    link.proxy.pause();
    const entries = Array.from({ length: 20_000 }, (_, i) => ({ key: `p:${i}`, value: i }));
    expect(await cache.setMany(entries)).toBe(false);
    expect(cache.processStats().byKind.kv).toMatchObject({ writes: 0, writeFailures: 20_000 });
    link.proxy.heal();
  });
});
