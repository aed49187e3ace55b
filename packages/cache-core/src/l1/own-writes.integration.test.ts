// A process reads its own writes from L1 without waiting for Redis's invalidation of them: the
// tiered store drops the keys around every write. To show that it is the rule and not tracking
// that does it, the tracking connection goes through the fault proxy, which then holds Redis's
// invalidation pushes back for longer than the test takes.
import { startFaultProxy, startRedisServer, uniquePrefix, type FaultProxy, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache, type Cache } from '../cache.js';
import { resolveConfig } from '../config.js';
import { RedisStore } from '../stores/redis-store.js';
import type { TrackingNode } from '../stores/tracking-node.js';

/** Longer than the test's reads take, shorter than what would make the heartbeat stop L1 before them. */
const PUSH_DELAY_MS = 1500;

let server: RedisServer;
let proxy: FaultProxy;
let cache: Cache;

/** A Redis store whose L1 tracking connection goes through the proxy; its commands go straight to the server. */
class SlowTrackingStore extends RedisStore {
  override trackingNodes(): TrackingNode[] {
    return [{ id: `${proxy.host}:${proxy.port}`, options: { url: proxy.url }, swappable: true }];
  }
}

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
  const options = { url: server.url, backend: 'redis' as const, keyPrefix: uniquePrefix('own'), envFile: false as const, env: {}, commandTimeoutMs: 5000 };
  cache = createCache({ ...options, l1: { maxMb: 16, kinds: '*' }, store: new SlowTrackingStore(resolveConfig(options)), logger: { warn: () => undefined } });
  await cache.connect();
  await vi.waitFor(() => expect(cache.processStats().l1?.serving).toBe(true), { timeout: 20_000, interval: 50 });
});
afterAll(async () => {
  await cache?.close();
  await proxy?.close();
  await server?.stop();
});

describe('L1 and this process\'s own writes', () => {
  it('every kind of write drops the key from L1 at once, before Redis says it changed', async () => {
    const writes: [string, (key: string) => Promise<unknown>, unknown][] = [
      ['set', (k) => cache.set(k, 'new'), 'new'],
      ['setMany', (k) => cache.setMany([{ key: k, value: 'new' }]), 'new'],
      ['delete', (k) => cache.delete(k), null],
      ['deleteMany', (k) => cache.deleteMany([k]), null],
      ['deleteByPrefix', (k) => cache.deleteByPrefix(k), null],
      ['deleteIfEquals', (k) => cache.deleteIfEquals(k, 'old'), null],
      ['expire', (k) => cache.expire(k, 60), 'old'],
      ['getAndTouch', (k) => cache.getAndTouch(k, { ttl: 60 }), 'old'],
    ];
    for (const [name, write, after] of writes) {
      const key = `k:${name}`;
      proxy.heal();
      await vi.waitFor(() => expect(cache.processStats().l1?.serving).toBe(true), { timeout: 20_000, interval: 50 });
      expect(await cache.set(key, 'old', { ttl: 600 })).toBe(true);
      await cache.syncLocal();
      expect(await cache.get(key)).toBe('old');
      expect(cache.peekLocal(cache.keys.key('kv', key)), `${name}: L1 holds the key before the write`).toBe('old');
      proxy.setLatency(PUSH_DELAY_MS);
      await write(key);
      // Redis's push for this write is still on its way through the proxy.
      expect(cache.peekLocal(cache.keys.key('kv', key)), `${name}: L1 still held the value from before the write`).toBeUndefined();
      expect(await cache.get(key), name).toBe(after);
    }
  }, 120_000);
});
