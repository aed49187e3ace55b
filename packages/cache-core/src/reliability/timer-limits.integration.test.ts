// Options and settings that become Node timers: a timer holds at most 2^31-1 ms, and Node turns
// anything longer into 1 ms (with a warning), so a deadline meant to be generous fires at once.
// Under the fault proxy's delayed replies, such a deadline is what decides the outcome.
import { startFaultProxy, startRedisServer, uniquePrefix, type FaultProxy, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache } from '../cache.js';
import { MAX_TIMEOUT_MS } from '../stores/deadline.js';

describe('per-call deadlines that a Node timer cannot hold', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let cache: Cache;
  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    cache = createCache({ url: proxy.url, backend: 'redis', keyPrefix: uniquePrefix('timers'), envFile: false, env: {}, statsPublish: false, commandTimeoutMs: 5000 });
    expect(await cache.set('k', { v: 1 })).toBe(true);
    // Every reply comes 50 ms late each way: a deadline that overflowed to 1 ms cannot be met.
    proxy.setLatency(50);
  });
  afterAll(async () => {
    await cache?.close();
    await proxy?.close();
    await server?.stop();
  });

  it('refuses timeoutMs over 2^31-1 ms with E_INVALID_CONFIG naming it (it ended every call after 1 ms)', async () => {
    for (const timeoutMs of [2 ** 31, 1e12]) {
      await expect(cache.getMany(['k'], { timeoutMs, throwOnFailure: true })).rejects.toMatchObject({ code: 'E_INVALID_CONFIG', message: expect.stringMatching(/timeoutMs.*2147483647/) });
      await expect(cache.setMany([{ key: 'k', value: 2 }], { timeoutMs })).rejects.toMatchObject({ code: 'E_INVALID_CONFIG', message: expect.stringMatching(/timeoutMs/) });
    }
    expect(await cache.get('k')).toEqual({ v: 1 });
  });

  it('accepts the longest deadline a timer holds, plus what a write adds per byte, and waits for the late reply', async () => {
    expect(await cache.getMany(['k'], { timeoutMs: MAX_TIMEOUT_MS, throwOnFailure: true })).toEqual([{ v: 1 }]);
    // 2 MiB: the store adds 1 ms per 64 KiB to the deadline of a write; it must not pass the timer's limit.
    expect(await cache.setMany([{ key: 'big', value: 'x'.repeat(2 * 1024 * 1024) }], { timeoutMs: MAX_TIMEOUT_MS })).toBe(true);
    expect(await cache.getMany(['big'], { timeoutMs: MAX_TIMEOUT_MS })).toEqual(['x'.repeat(2 * 1024 * 1024)]);
  });
});
