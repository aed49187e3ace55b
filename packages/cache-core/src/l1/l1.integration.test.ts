import { redisCluster, redisSentinel, singleNode, topologies, uniquePrefix } from '@finrisk/test-utils';
import { clockPast, until, useDeployment } from '@finrisk/test-utils/fixtures';
import fc from 'fast-check';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from '../cache.js';
import { registerOpenTelemetryMetrics } from '../metrics/opentelemetry.js';
import { registerPrometheusMetrics } from '../metrics/prometheus.js';
import type { CacheKey } from '../keys.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const serving = (cache: Cache) => cache.processStats().l1?.serving === true;
const l1Hits = (cache: Cache, kind: string) => cache.processStats().byKind[kind]?.l1Hits ?? 0;

describe.each([...topologies, redisSentinel])('L1 on Redis ($name)', (topology) => {
  const fixture = useDeployment(topology);
  let prefix: string;

  function make(options: CreateCacheOptions = {}): Cache {
    const cache = createCache({ ...fixture.deployment.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, commandTimeoutMs: 2000, l1: { maxMb: 16 }, ...options } as CreateCacheOptions);
    fixture.track(cache);
    return cache;
  }

  /** A cache with L1 whose tracking is established (it serves from the first read after). */
  async function reader(options: CreateCacheOptions = {}): Promise<Cache> {
    const cache = make(options);
    await cache.connect();
    await until('L1 serves', () => serving(cache));
    return cache;
  }

  // Every test uses its own prefix, so that no test hears another's writes.
  const fresh = () => (prefix = uniquePrefix('l1'));

  it('answers a hot read from memory: no command reaches Redis', async () => {
    fresh();
    const cache = await reader();
    const key = cache.keys.key('prediction', 'C1', 'credit');
    await cache.set(key, { risk_score: 0.75 });
    // Redis also tells this process about its own write (BCAST): wait for that echo, or it could
    // drop the fill below and make the first read after it a miss.
    await cache.syncLocal();
    expect(await cache.get(key)).toEqual({ risk_score: 0.75 }); // fills L1
    const before = fixture.deployment.calls('get') + fixture.deployment.calls('mget');
    for (let i = 0; i < 50; i++) expect(await cache.get(key)).toEqual({ risk_score: 0.75 });
    expect(fixture.deployment.calls('get') + fixture.deployment.calls('mget')).toBe(before);
    expect(l1Hits(cache, 'prediction')).toBe(50);
    expect(cache.processStats().byKind.prediction).toMatchObject({ hits: 51, misses: 0 });
    expect(cache.processStats().l1?.bytes).toBeGreaterThan(0);
  });

  it('never serves a value after another client changed it (write, delete, expiry, flush), once the change reached L1', async () => {
    fresh();
    const cache = await reader();
    const writer = make({ l1: { maxMb: 0 } });
    const key = cache.keys.key('feature', 'C2');
    const read = async () => {
      await cache.syncLocal();
      return cache.get(key);
    };
    await writer.set(key, { v: 1 });
    expect(await read()).toEqual({ v: 1 });
    expect(await read()).toEqual({ v: 1 }); // from L1
    await writer.set(key, { v: 2 });
    expect(await read()).toEqual({ v: 2 });
    await writer.delete(key);
    expect(await read()).toBeNull();
    // Long enough for the sync and the read below on a loaded machine; the expiry is checked
    // against the time the read that filled L1 ended, which bounds both Redis's and L1's deadline.
    await writer.set(key, { v: 3 }, { ttl: 2 });
    expect(await read()).toEqual({ v: 3 });
    await clockPast(Date.now() + 2000);
    // Expired in Redis: L1 held it no longer than its TTL, whether or not Redis has deleted it yet.
    expect(await cache.get(key)).toBeNull();
    await writer.set(key, { v: 4 });
    expect(await read()).toEqual({ v: 4 });
    for (const master of fixture.deployment.masters()) master.cli('FLUSHALL');
    expect(await read()).toBeNull();
  });

  it('hears writes made with redis-cli', async () => {
    fresh();
    const cache = await reader({ keyLayout: 'finrisk-python' });
    const key: CacheKey = { kind: 'feature', key: `features:${prefix}-C3`, format: 'json' };
    fixture.deployment.cli('SET', key.key, '{"age": 30}');
    expect(await cache.get(key)).toEqual({ age: 30 });
    expect(await cache.get(key)).toEqual({ age: 30 });
    fixture.deployment.cli('SET', key.key, '{"age": 31}');
    await cache.syncLocal();
    expect(await cache.get(key)).toEqual({ age: 31 });
    fixture.deployment.cli('DEL', key.key);
    await cache.syncLocal();
    expect(await cache.get(key)).toBeNull();
  });

  it('never lets a read that raced a write put the old value back (concurrent reads and writes)', async () => {
    fresh();
    const cache = await reader();
    const writer = make({ l1: { maxMb: 0 } });
    const key = cache.keys.key('prediction', 'race', 'credit');
    for (let round = 0; round < 30; round++) {
      // Reads in flight while the value changes: whatever they return, L1 must end up with the last write.
      const reads = Array.from({ length: 20 }, () => cache.get(key));
      await writer.set(key, { round });
      await Promise.all(reads);
      await cache.syncLocal();
      expect(await cache.get(key)).toEqual({ round });
      expect(await cache.get(key)).toEqual({ round });
    }
  });

  it('serves nothing from L1 once its tracking connection is killed, and the change made meanwhile is seen', async () => {
    fresh();
    const cache = await reader();
    const writer = make({ l1: { maxMb: 0 } });
    const key = cache.keys.key('model', 'credit', 'v1');
    await writer.set(key, { weights: [1, 2, 3] });
    expect(await cache.get(key)).toEqual({ weights: [1, 2, 3] });
    expect(await cache.get(key)).toEqual({ weights: [1, 2, 3] });
    // Kill the tracking connections (flag B: BCAST tracking), then change the key before the
    // reader reconnects: the invalidation of that write is lost with the connection.
    for (const master of fixture.deployment.masters()) {
      for (const id of trackingIds(master.cli('CLIENT', 'LIST'))) master.cli('CLIENT', 'KILL', 'ID', id);
    }
    await writer.set(key, { weights: [4, 5, 6] });
    // Until tracking is back, reads go to Redis; after it, L1 starts empty.
    await until('the new value is read', async () => JSON.stringify(await cache.get(key)) === '{"weights":[4,5,6]}');
    for (let i = 0; i < 20; i++) expect(await cache.get(key)).toEqual({ weights: [4, 5, 6] });
    await until('L1 serves again', () => serving(cache));
    const hits = l1Hits(cache, 'model');
    await cache.get(key);
    await cache.get(key);
    expect(l1Hits(cache, 'model')).toBeGreaterThan(hits);
  });

  it('gives every caller a value it cannot change: frozen plain values, fresh copies of the rest', async () => {
    fresh();
    const cache = await reader();
    const plain = cache.keys.key('feature', 'C5');
    const rich = cache.keys.key('model', 'scaler', 'v1');
    await cache.set(plain, { age: 35, tags: ['a'] });
    await cache.set(rich, { mean: new Float64Array([1.5, 2.5]), seen: new Map([['x', 1]]) });
    await cache.syncLocal();
    const first = await cache.get<{ age: number; tags: string[] }>(plain);
    await cache.get(plain);
    const shared = (await cache.get<{ age: number; tags: string[] }>(plain))!;
    expect(() => {
      shared.age = 99;
    }).toThrow(TypeError);
    expect(() => shared.tags.push('b')).toThrow(TypeError);
    expect(await cache.get(plain)).toEqual({ age: 35, tags: ['a'] });
    expect(first).toEqual({ age: 35, tags: ['a'] });
    await cache.get(rich);
    const copy = (await cache.get<{ mean: Float64Array; seen: Map<string, number> }>(rich))!;
    copy.mean[0] = -1;
    copy.seen.set('x', 42);
    expect(await cache.get(rich)).toEqual({ mean: new Float64Array([1.5, 2.5]), seen: new Map([['x', 1]]) });
    expect(l1Hits(cache, 'model')).toBeGreaterThanOrEqual(2);
    // A Buffer must come back a Buffer (a clone would make it a Uint8Array): decoded per hit.
    const bytes = cache.keys.key('model', 'encoder', 'v1');
    await cache.set(bytes, Buffer.from('abc'));
    await cache.syncLocal();
    await cache.get(bytes);
    const buffer = (await cache.get<Buffer>(bytes))!;
    expect(Buffer.isBuffer(buffer)).toBe(true);
    buffer[0] = 0x7a;
    expect((await cache.get<Buffer>(bytes))!.toString()).toBe('abc');
    expect(l1Hits(cache, 'model')).toBeGreaterThanOrEqual(4);
  });

  it('stays under its size: with ten times more hot data than fits, L1 bytes never pass the cap, and it evicts', async () => {
    fresh();
    const cache = await reader({ l1: { maxMb: 1, maxEntryMb: 1 } });
    const value = { payload: 'x'.repeat(2000) };
    const keys = Array.from({ length: 1700 }, (_, i) => cache.keys.key('feature', `M${i}`));
    await cache.setMany(keys.map((key) => ({ key, value })));
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < keys.length; i += 100) {
        await cache.getMany(keys.slice(i, i + 100));
        expect(cache.processStats().l1!.bytes).toBeLessThanOrEqual(1024 * 1024);
      }
    }
    expect(cache.processStats().byKind.feature!.l1Evictions).toBeGreaterThan(0);
  });

  it('property: after a write by another client is acknowledged and has reached L1, no read returns an older value (both key layouts)', async () => {
    fresh();
    // The Python layout's key spaces are tracked only by a cache that uses that layout.
    const cache = await reader({ keyLayout: 'finrisk-python' });
    const writer = make({ l1: { maxMb: 0 } });
    const keys: CacheKey[] = [
      cache.keys.key('prediction', 'P1', 'credit'),
      cache.keys.key('feature', 'P2'),
      { kind: 'prediction', key: `prediction:credit:${prefix}-P3`, format: 'json' },
      { kind: 'feature', key: `features:${prefix}-P4`, format: 'json' },
    ];
    const op = fc.oneof(
      fc.record({ type: fc.constant('write' as const), key: fc.nat(keys.length - 1), value: fc.integer() }),
      fc.record({ type: fc.constant('delete' as const), key: fc.nat(keys.length - 1) }),
      fc.record({ type: fc.constant('expire' as const), key: fc.nat(keys.length - 1) }),
      fc.record({ type: fc.constant('read' as const), key: fc.nat(keys.length - 1) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const model = new Map<number, number | null>();
        await writer.deleteMany(keys);
        await cache.syncLocal();
        for (const o of ops) {
          const key = keys[o.key]!;
          if (o.type === 'write') {
            expect(await writer.set(key, { v: o.value })).toBe(true);
            model.set(o.key, o.value);
          } else if (o.type === 'delete') {
            await writer.delete(key);
            model.set(o.key, null);
          } else if (o.type === 'expire') {
            await writer.expire(key, 0.001);
            await sleep(3);
            model.set(o.key, null);
          } else {
            await cache.get(key); // may fill L1
            continue;
          }
          // Whatever L1 held, once the change has reached this process no read returns the old value.
          await cache.syncLocal();
          const expected = model.get(o.key);
          expect(await cache.get(key)).toEqual(expected === null || expected === undefined ? null : { v: expected });
          expect(await cache.get(key)).toEqual(expected === null || expected === undefined ? null : { v: expected });
        }
      }),
      { numRuns: topology.name === 'single' ? 40 : 15 },
    );
  });

  if (topology.name !== 'cluster') {
    // Redis sends tracking clients no invalidation for SWAPDB (7.0: no push, no keyspace event);
    // a cluster has only database 0 and refuses it.
    it('empties L1 on a SWAPDB from another connection: syncLocal() sees it at once, the heartbeat within a few seconds', async () => {
      fresh();
      const cache = await reader({ keyLayout: 'finrisk-python' });
      const key: CacheKey = { kind: 'feature', key: `features:${prefix}-SWAP`, format: 'json' };
      const master = () => fixture.deployment.masters()[0]!;
      // Database 1 first: a write to a key of that name there is heard too (invalidations name keys, not databases).
      master().cli('-n', '1', 'SET', key.key, '{"db": 1}');
      master().cli('-n', '0', 'SET', key.key, '{"db": 0}');
      await cache.syncLocal();
      expect(await cache.get(key)).toEqual({ db: 0 });
      expect(await cache.get(key)).toEqual({ db: 0 }); // from L1
      const hits = l1Hits(cache, 'feature');
      expect(hits).toBeGreaterThan(0);
      master().cli('SWAPDB', '0', '1');
      await cache.syncLocal();
      expect(await cache.get(key)).toEqual({ db: 1 });
      expect(await cache.get(key)).toEqual({ db: 1 }); // L1 serves again, the new database's value
      expect(l1Hits(cache, 'feature')).toBe(hits + 1);
      // Without syncLocal: the next heartbeat notices (nothing else could tell the process).
      master().cli('SWAPDB', '0', '1');
      await until('L1 dropped the swapped value', async () => (await cache.get<{ db: number }>(key))?.db === 0);
    });
  }

  if (topology.name === 'single') {
    it('property, with redis-cli as the writer', async () => {
      fresh();
      const cache = await reader({ keyLayout: 'finrisk-python' });
      const keys: CacheKey[] = [0, 1, 2].map((i) => ({ kind: 'feature', key: `features:${prefix}-R${i}`, format: 'json' }));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.nat(2), fc.option(fc.integer(), { nil: null })), { minLength: 1, maxLength: 8 }), async (ops) => {
          for (const [index, value] of ops) {
            const key = keys[index]!;
            await cache.get(key);
            if (value === null) fixture.deployment.cli('DEL', key.key);
            else fixture.deployment.cli('SET', key.key, JSON.stringify({ v: value }));
            await cache.syncLocal();
            expect(await cache.get(key)).toEqual(value === null ? null : { v: value });
          }
        }),
        { numRuns: 10 },
      );
    });

    it('flushes L1 when Redis is killed and restarted: the old value is never served', async () => {
      fresh();
      const own = await singleNode.start();
      try {
        const cache = createCache({ ...own.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, l1: { maxMb: 16 } } as CreateCacheOptions);
        fixture.track(cache);
        await cache.connect();
        await until('L1 serves', () => serving(cache));
        const key = cache.keys.key('feature', 'K1');
        await cache.set(key, { v: 'before' });
        await cache.get(key);
        expect(await cache.get(key)).toEqual({ v: 'before' });
        const server = own.masters()[0]!;
        await server.kill();
        await until('L1 stops serving', () => !serving(cache));
        expect(await cache.get(key)).toBeNull(); // Redis is down: a miss, not the old value
        await server.restart(); // no persistence: the key is gone
        await until('L1 serves again', () => serving(cache));
        expect(await cache.get(key)).toBeNull();
      } finally {
        await own.stop();
      }
    });

    it('holds no entry longer than its TTL in Redis, even when Redis has not deleted the key yet', async () => {
      fresh();
      // Active expiry off: an expired key stays in Redis until it is touched, and no invalidation
      // comes for it. Only L1's own bound (the TTL read with the value) keeps it from being served.
      const own = await singleNode.start({ args: ['--enable-debug-command', 'yes'] });
      try {
        own.cli('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
        const cache = createCache({ ...own.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, l1: { maxMb: 16 } } as CreateCacheOptions);
        fixture.track(cache);
        await cache.connect();
        await until('L1 serves', () => serving(cache));
        const key = cache.keys.key('prediction', 'C6', 'credit');
        // Long enough for a sync and two reads on a loaded machine (0.3 s was not).
        await cache.set(key, { s: 1 }, { ttl: 2 });
        await cache.syncLocal();
        expect(await cache.get(key)).toEqual({ s: 1 });
        // L1's deadline is at most the end of the read that filled it plus the TTL it read (<= 2 s).
        const filled = Date.now();
        const hits = l1Hits(cache, 'prediction');
        expect(await cache.get(key)).toEqual({ s: 1 });
        expect(l1Hits(cache, 'prediction')).toBe(hits + 1); // it was in L1
        await clockPast(filled + 2000);
        expect(own.cli('DBSIZE')).toBe('1'); // still in Redis, expired but not deleted
        expect(await cache.get(key)).toBeNull();
      } finally {
        await own.stop();
      }
    });

    it('hears evictions under maxmemory', async () => {
      fresh();
      const own = await singleNode.start({ args: ['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru'] });
      try {
        const cache = createCache({ ...own.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, l1: { maxMb: 16 } } as CreateCacheOptions);
        fixture.track(cache);
        await cache.connect();
        await until('L1 serves', () => serving(cache));
        const key = cache.keys.key('feature', 'EVICTED');
        await cache.set(key, { v: 1 });
        await cache.syncLocal();
        await cache.get(key);
        expect(await cache.get(key)).toEqual({ v: 1 });
        const writer = createCache({ ...own.connection, backend: 'redis', keyPrefix: `${prefix}-filler`, envFile: false, env: {}, compressionThreshold: 0 } as CreateCacheOptions);
        fixture.track(writer);
        const filler = 'y'.repeat(10_000);
        for (let round = 0; await writer.exists(key); round++) {
          if (round > 100) throw new Error('the key was never evicted');
          await writer.setMany(Array.from({ length: 50 }, (_, i) => ({ key: `f${round}:${i}`, value: filler })));
        }
        await cache.syncLocal();
        expect(await cache.get(key)).toBeNull();
        expect(cache.processStats().byKind.feature!.l1Invalidations).toBeGreaterThan(0);
      } finally {
        await own.stop();
      }
    });

    it('reports its figures per kind in stats() and through the Prometheus and OpenTelemetry adapters', async () => {
      fresh();
      const cache = await reader();
      const registry = new promClient.Registry();
      registerPrometheusMetrics(cache, { client: promClient, registry });
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      const metricReader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
      const provider = new MeterProvider({ readers: [metricReader] });
      registerOpenTelemetryMetrics(cache, { meter: provider.getMeter('l1') });
      const key = cache.keys.key('prediction', 'M1', 'credit');
      await cache.set(key, { s: 1 });
      await cache.syncLocal();
      for (let i = 0; i < 4; i++) await cache.get(key);
      const stats = await cache.stats();
      expect(stats.process.byKind.prediction).toMatchObject({ l1Hits: 3, l1Misses: 1, hits: 4 });
      expect(stats.process.l1).toMatchObject({ serving: true, maxBytes: 16 * 1024 * 1024 });
      const text = await registry.metrics();
      expect(text).toContain('finrisk_cache_l1_hits_total{kind="prediction"} 3');
      expect(text).toContain('finrisk_cache_l1_misses_total{kind="prediction"} 1');
      expect(text).toMatch(/finrisk_cache_l1_bytes\{kind="prediction"\} [1-9]/);
      await metricReader.forceFlush();
      const points = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
      expect(points.find((m) => m.descriptor.name === 'finrisk.cache.l1_hits')?.dataPoints).toContainEqual(expect.objectContaining({ attributes: { kind: 'prediction' }, value: 3 }));
      await provider.shutdown();
    });

    it('is off on the embedded store, and says so', async () => {
      const warnings: string[] = [];
      const cache = createCache({ backend: 'memory', envFile: false, env: {}, l1: { maxMb: 16 }, logger: { warn: (m) => warnings.push(m) } });
      fixture.track(cache);
      await cache.set('k', 1);
      expect(await cache.get('k')).toBe(1);
      expect(warnings).toEqual([expect.stringMatching(/L1 is off: only Redis can keep it coherent/)]);
      expect(cache.processStats().l1?.serving).toBe(false);
    });
  }

  if (topology.name !== 'single') {
    it('flushes L1 on a failover: no value from before it is served after the new master took a write', async () => {
      fresh();
      const closing: Cache[] = [];
      const own = await (topology.name === 'cluster' ? redisCluster : redisSentinel).start();
      try {
        const cache = createCache({ ...own.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, commandTimeoutMs: 2000, l1: { maxMb: 16 } } as CreateCacheOptions);
        const writer = createCache({ ...own.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, commandTimeoutMs: 2000 } as CreateCacheOptions);
        // Closed before the deployment is stopped (in finally, below), not after it.
        closing.push(cache, writer);
        await cache.connect();
        await until('L1 serves', () => serving(cache));
        const keys = Array.from({ length: 20 }, (_, i) => cache.keys.key('feature', `F${i}`));
        await writer.setMany(keys.map((key) => ({ key, value: { v: 'before' } })));
        await cache.getMany(keys);
        expect(await cache.getMany(keys)).toEqual(keys.map(() => ({ v: 'before' })));
        const victim = own.masters()[0]!;
        await victim.kill();
        // Keep writing the new value until the topology has moved on and the writes land.
        await until('writes succeed after the failover', async () => (await writer.setMany(keys.map((key) => ({ key, value: { v: 'after' } })))) === true, 60_000);
        await until('every key reads the new value', async () => JSON.stringify(await cache.getMany(keys)) === JSON.stringify(keys.map(() => ({ v: 'after' }))), 60_000);
        // From now on the old value never comes back, from L1 or anywhere.
        for (let i = 0; i < 10; i++) {
          expect(await cache.getMany(keys)).toEqual(keys.map(() => ({ v: 'after' })));
          await sleep(50);
        }
      } finally {
        await Promise.all(closing.splice(0).map((c) => c.close()));
        await own.stop();
      }
    }, 120_000);
  }
});

/** Ids of BCAST tracking connections in CLIENT LIST output (flags contain B). */
function trackingIds(list: string): string[] {
  return list
    .split('\n')
    .filter((line) => /\bflags=\S*B/.test(line))
    .map((line) => /\bid=(\d+)/.exec(line)![1]!);
}
