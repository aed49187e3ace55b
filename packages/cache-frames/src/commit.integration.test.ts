// How a table write commits when the manifest SET's outcome is not known (issue 22, finding 3):
// a reply delayed past the deadline by the fault proxy (the SET landed), a SET Redis refused, a
// SET that got no answer at all, and the TTLs of a table cached with `ttl: null`. Afterwards the
// table is the new one whole or the previous one whole, never a miss.
import { createCache, type Cache, type CacheErrorEvent } from '@finrisk/cache-core';
import { startFaultProxy, startRedisServer, uniquePrefix, type FaultProxy, type RedisServer } from '@finrisk/test-utils';
import * as aq from 'arquero';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FrameErrorEvent } from './frame-context.js';
import { createFrameCache, type FrameCache } from './frame-cache.js';

const table = (n: number, tag: string) => aq.table({ id: Int32Array.from({ length: n }, (_, i) => i), tag: Array.from({ length: n }, (_, i) => `${tag}-${i % 97}`) });

describe('committing a table write whose outcome is unknown (single node, fault proxy)', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  const caches: Cache[] = [];
  let prefix: string;
  /** The same keys read straight from the server, past the proxy. */
  let observer: FrameCache;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
  });
  afterEach(async () => {
    proxy.heal();
    server.cli('CONFIG', 'SET', 'maxmemory', '0');
    await Promise.all(caches.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  function open(): { frames: FrameCache; errors: CacheErrorEvent[]; frameErrors: FrameErrorEvent[]; cache: Cache } {
    prefix = uniquePrefix('commit');
    const cache = createCache({ url: proxy.url, backend: 'redis', keyPrefix: prefix, commandTimeoutMs: 200, breakerThreshold: 1_000_000, envFile: false, env: {} });
    caches.push(cache);
    const errors: CacheErrorEvent[] = [];
    cache.on('error', (e) => errors.push(e));
    const frames = createFrameCache(cache, { chunkBytes: 16 * 1024 });
    const frameErrors: FrameErrorEvent[] = [];
    frames.on('error', (e) => frameErrors.push(e));
    const direct = createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, commandTimeoutMs: 10_000, envFile: false, env: {} });
    caches.push(direct);
    observer = createFrameCache(direct);
    return { frames, errors, frameErrors, cache };
  }

  const keys = (pattern: string) => server.cli('--scan', '--pattern', `${prefix}:${pattern}`).split('\n').filter(Boolean).sort();
  const manifestVersion = async () => (await observer.getDataFrameInfo('t'))?.version;
  /** The chunk keys of one version, read from the server. */
  const chunksOf = (version: string) => keys(`dataframe:t:chunk:${version}:*`);

  it('a manifest SET whose reply comes after its deadline (it landed): the write reads the manifest back and answers true; the new table whole, the old chunks gone', async () => {
    const { frames, errors, frameErrors } = open();
    const v1 = table(3000, 'one');
    expect(await frames.cacheDataFrame('t', v1, { ttl: 3600 })).toBe(true);
    const first = (await manifestVersion())!;
    expect(chunksOf(first).length).toBeGreaterThan(0);

    // Once every chunk is stored, replies take 2 x 500 ms: 5 times the 200 ms deadline. The SET
    // reaches Redis after 500 ms; its reply arrives long after the write stopped waiting for it.
    const v2 = table(5000, 'two');
    const written = await frames.cacheDataFrame('t', v2, { ttl: 3600, onProgress: (p) => p.done && proxy.setLatency(500) });
    expect(errors.filter((e) => e.operation === 'set' && e.error.code === 'E_TIMEOUT')).not.toHaveLength(0);
    expect(written).toBe(true);
    proxy.heal();

    const second = (await manifestVersion())!;
    expect(second).not.toBe(first);
    expect((await frames.getCachedDataFrame('t'))!.objects()).toEqual(v2.objects());
    expect(frameErrors).toEqual([]);
    // The UNLINK of the old chunks may itself have timed out; it runs all the same.
    await expect.poll(() => chunksOf(first), { timeout: 20_000 }).toEqual([]);
    const info = (await frames.getDataFrameInfo('t'))!;
    expect(chunksOf(second)).toHaveLength(info.chunks);
  });

  it('a manifest SET Redis refuses (out of memory): false, the previous table whole, the new chunks removed', async () => {
    const { frames } = open();
    const v1 = table(3000, 'one');
    expect(await frames.cacheDataFrame('t', v1)).toBe(true);
    const first = (await manifestVersion())!;
    const before = keys('dataframe:t:chunk:*');
    const written = await frames.cacheDataFrame('t', table(5000, 'two'), { onProgress: (p) => p.done && server.cli('CONFIG', 'SET', 'maxmemory', '1') });
    expect(written).toBe(false);
    server.cli('CONFIG', 'SET', 'maxmemory', '0');
    expect(await manifestVersion()).toBe(first);
    expect(keys('dataframe:t:chunk:*')).toEqual(before);
    expect((await frames.getCachedDataFrame('t'))!.objects()).toEqual(v1.objects());
  });

  it('a manifest SET that gets no answer at all: false, nothing deleted, every key of the write with a TTL; the previous table whole once healed', async () => {
    const { frames, cache } = open();
    const v1 = table(3000, 'one');
    expect(await frames.cacheDataFrame('t', v1, { ttl: null })).toBe(true);
    const first = (await manifestVersion())!;
    // The commit reads the previous manifest (a getMany), then sends the SET: the path swallows
    // everything from the end of that read on (the SET never reaches Redis, no read-back is answered).
    let armed = false;
    cache.on('operation', (e) => {
      if (armed && e.operation === 'getMany' && e.kind === 'dataframe') {
        armed = false;
        proxy.blackHole();
      }
    });
    const staged = await frames.stage('t', table(5000, 'two'), { ttl: null });
    const version = staged!.manifest.version;
    armed = true;
    expect(await staged!.commit()).toBe(false);
    proxy.heal();
    expect(await manifestVersion()).toBe(first);
    const orphans = chunksOf(version);
    expect(orphans).toHaveLength(staged!.chunkKeys.length);
    for (const key of orphans) expect(Number(server.cli('PTTL', key))).toBeGreaterThan(0);
    // Read past the proxy: healing a black hole drops the connections that lost bytes.
    expect((await observer.getCachedDataFrame('t'))!.objects()).toEqual(v1.objects());
  });

  it('ttl: null: once committed, the manifest and its chunks have no TTL, and the previous version (no TTL either) is removed', async () => {
    const { frames } = open();
    expect(await frames.cacheDataFrame('t', table(3000, 'one'), { ttl: null })).toBe(true);
    const first = (await manifestVersion())!;
    const v2 = table(4000, 'two');
    expect(await frames.cacheDataFrame('t', v2, { ttl: null })).toBe(true);
    const second = (await manifestVersion())!;
    expect(server.cli('PTTL', `${prefix}:dataframe:t:manifest`)).toBe('-1');
    expect(chunksOf(second).length).toBeGreaterThan(1);
    for (const key of chunksOf(second)) expect(server.cli('PTTL', key)).toBe('-1');
    expect(chunksOf(first)).toEqual([]);
    // Nothing else is left: the record of writes in progress is gone with the last one.
    expect(keys('dataframe:t:*').filter((k) => !k.includes(':chunk:'))).toEqual([`${prefix}:dataframe:t:manifest`]);
    expect((await frames.getCachedDataFrame('t'))!.objects()).toEqual(v2.objects());
    expect((await frames.getDataFrameInfo('t'))!.expiresAt).toBeNull();
  });
});
