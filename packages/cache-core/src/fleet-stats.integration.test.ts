import { topologies, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { useDeployment } from '@finrisk/test-utils/fixtures';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from './cache.js';
import type { RedisStore } from './stores/redis-store.js';

describe.each(topologies)('fleet statistics on Redis ($name)', (topology) => {
  const fixture = useDeployment(topology);

  function make(prefix: string, options: CreateCacheOptions): Cache {
    const cache = createCache({ ...fixture.deployment.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, ...options } as CreateCacheOptions);
    fixture.track(cache);
    return cache;
  }

  it("shows each service's hit rate per kind, as each process's own stats() reports it", async () => {
    const prefix = uniquePrefix('fleet');
    const scoring = [make(prefix, { serviceName: 'scoring' }), make(prefix, { serviceName: 'scoring' })];
    const batch = make(prefix, { serviceName: 'batch-loader' });
    const key = (cache: Cache, id: string) => cache.keys.key('prediction', id, 'credit');
    await batch.setMany(['C1', 'C2', 'C3'].map((id) => ({ key: key(batch, id), value: { s: 1 } })));
    for (const id of ['C1', 'C2', 'NOBODY']) await scoring[0]!.get(key(scoring[0]!, id));
    for (const id of ['C1', 'X', 'Y', 'Z']) await scoring[1]!.get(key(scoring[1]!, id));
    await batch.get(batch.keys.key('feature', 'F1'));
    for (const cache of [...scoring, batch]) expect(await cache.publishStats()).toBe(true);

    // Read from the index: no SCAN of the keyspace, whatever its size.
    const scans = fixture.deployment.calls('scan');
    const fleet = (await batch.fleetStats())!;
    expect(fixture.deployment.calls('scan')).toBe(scans);
    expect(fleet.services.map((s) => s.service)).toEqual(['batch-loader', 'scoring']);
    const [loader, service] = fleet.services;
    expect(service).toMatchObject({ instances: 2, hits: 3, misses: 4 });
    expect(service!.byKind.prediction).toMatchObject({ hits: 3, misses: 4, hitRate: 3 / 7 });
    const own = scoring.map((c) => c.processStats().byKind.prediction!);
    expect(service!.byKind.prediction!.hits).toBe(own[0]!.hits + own[1]!.hits);
    expect(service!.byKind.prediction!.misses).toBe(own[0]!.misses + own[1]!.misses);
    expect(loader).toMatchObject({ instances: 1, hits: 0, misses: 1 });
    expect(loader!.byKind.prediction).toMatchObject({ writes: 3 });
    // Published with a TTL of three intervals: a process that stops publishing drops out.
    const ttl = Number(fixture.deployment.cli('PTTL', `${prefix}:stats:scoring:${encodeURIComponent(fleet.instances.find((i) => i.service === 'scoring')!.instance)}`));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('publishes nothing with CACHE_STATS_PUBLISH=off, and the last figures on close otherwise', async () => {
    const prefix = uniquePrefix('fleet');
    const quiet = make(prefix, { statsPublish: false, serviceName: 'quiet' });
    const loud = make(prefix, { serviceName: 'loud' });
    await quiet.get('k');
    await loud.get('k');
    await loud.close();
    const reader = make(prefix, { statsPublish: false });
    const fleet = (await reader.fleetStats())!;
    expect(fleet.services.map((s) => s.service)).toEqual(['loud']);
    expect(fleet.services[0]!.byKind.kv).toMatchObject({ misses: 1 });
  });
});

/** The counters a forged `__proto__` kind would give Object.prototype (and `constructor` the Object function). */
const COUNTER_NAMES = ['hits', 'misses', 'writes', 'writeFailures', 'errors', 'operations', 'totalLatencyMs', 'l1Hits', 'l1Misses', 'l1Evictions', 'l1Invalidations', 'l1Bytes', 'hitRate', 'l1HitRate'];

/** Undoes what a forged record did to shared objects, so that a failing test does not poison the next. */
function scrub(): void {
  for (const target of [Object.prototype, Object, Function.prototype] as Record<string, unknown>[]) {
    for (const name of COUNTER_NAMES) delete target[name];
  }
}

describe.each(topologies)('fleet statistics are untrusted input ($name)', (topology) => {
  let deployment: RedisDeployment;
  const open: Cache[] = [];
  beforeAll(async () => {
    deployment = await topology.start();
  });
  afterEach(async () => {
    scrub();
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await deployment?.stop();
  });

  function make(prefix: string, options: CreateCacheOptions = {}): Cache {
    const cache = createCache({ ...deployment.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, statsPublish: false, ...options } as CreateCacheOptions);
    open.push(cache);
    return cache;
  }

  /** A record as a forger writes it: raw bytes under a stats key, listed in the index like a real one. */
  async function forge(cache: Cache, service: string, instance: string, record: unknown): Promise<string> {
    const store = (await cache.connect()) as RedisStore;
    const key = `${cache.config.keyPrefix}:stats:${encodeURIComponent(service)}:${encodeURIComponent(instance)}`;
    const bytes = Buffer.isBuffer(record) ? record : Buffer.from(typeof record === 'string' ? record : JSON.stringify(record));
    await store.set(key, bytes, { ttlMs: 60_000 });
    await store.indexAdd(`${cache.config.keyPrefix}:stats-index`, key, Date.now(), 0, 60_000);
    return key;
  }

  const record = (service: string, instance: string, byKind: unknown) => ({
    format: 'finrisk-stats', formatVersion: 1, service, instance, host: 'h', pid: 1, startedAt: Date.now(), publishedAt: Date.now(), intervalSeconds: 10,
    process: { hits: 1, misses: 0, hitRate: 1, byKind },
  });
  const counters = (hits: number) => ({ hits, misses: 0, writes: 0, writeFailures: 0, errors: 0, operations: 1, totalLatencyMs: 1, l1Hits: 0, l1Misses: 0, l1Evictions: 0, l1Invalidations: 0, l1Bytes: 0 });

  it('a kind named __proto__, constructor or prototype changes no object of the reader, and its record is rejected', async () => {
    const prefix = uniquePrefix('fleet');
    const reader = make(prefix);
    const honest = make(prefix, { statsPublish: true, serviceName: 'scoring' });
    await honest.get('k');
    expect(await honest.publishStats()).toBe(true);
    // JSON.parse makes "__proto__" an own key: what a forger can write that JSON.stringify never does.
    await forge(reader, 'evil', 'h:1:aaaaaa', `{"format":"finrisk-stats","formatVersion":1,"service":"evil","instance":"h:1:aaaaaa","host":"h","pid":1,"startedAt":1,"publishedAt":1,"intervalSeconds":10,"process":{"hits":1,"misses":0,"hitRate":1,"byKind":{"__proto__":${JSON.stringify(counters(5))}}}}`);
    await forge(reader, 'evil2', 'h:2:bbbbbb', record('evil2', 'h:2:bbbbbb', { constructor: counters(6), prototype: counters(7) }));
    await forge(reader, 'evil3', 'h:3:cccccc', `{"__proto__":{"hits":9},"format":"finrisk-stats","formatVersion":1,"service":"evil3","instance":"h:3:cccccc","host":"h","pid":1,"startedAt":1,"publishedAt":1,"intervalSeconds":10,"process":{"hits":1,"misses":0,"hitRate":1,"byKind":{"kv":${JSON.stringify(counters(1))}}}}`);
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const fleet = (await reader.fleetStats())!;
    // Looked at, then undone before any assertion: a polluted prototype breaks the test runner itself.
    const protoAfter = Object.getOwnPropertyNames(Object.prototype).sort();
    const changed = COUNTER_NAMES.flatMap((name) =>
      [['Object.prototype', {}], ['Object', Object], ['Function.prototype', Function.prototype]]
        .filter(([, target]) => (target as Record<string, unknown>)[name] !== undefined)
        .map(([where]) => `${where as string}.${name}`),
    );
    scrub();
    expect(changed).toEqual([]);
    expect(protoAfter).toEqual(protoBefore);
    expect(fleet.services.map((s) => s.service)).toEqual(['scoring']);
    expect(fleet.rejected).toBe(3);
    // What a polluted prototype did next: every plain object written took the superjson codec (byte 3 of the envelope).
    await reader.set('after', { score: 1 });
    const stored = await ((await reader.connect()) as RedisStore).get(`${prefix}:kv:after`);
    expect(stored![3]).toBe(1); // Codec.json
    // The records handed out are null-prototype objects holding only what the format defines.
    const own = fleet.instances[0]!;
    expect(Object.getPrototypeOf(own.process.byKind)).toBeNull();
    expect(Object.getPrototypeOf(fleet.services[0]!.byKind)).toBeNull();
  });

  it('skips and counts records past the documented caps: kinds, bytes, names; reads a bounded number of instances', async () => {
    const prefix = uniquePrefix('fleet');
    const reader = make(prefix);
    const manyKinds = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, counters(1)]));
    await forge(reader, 'wide', 'h:1:aaaaaa', record('wide', 'h:1:aaaaaa', manyKinds));
    await forge(reader, 'fat', 'h:2:aaaaaa', { ...record('fat', 'h:2:aaaaaa', { kv: counters(1) }), host: 'x'.repeat(2 * 1024 * 1024) });
    await forge(reader, 'bad name', 'h:3:aaaaaa', record('bad name', 'h:3:aaaaaa', { kv: counters(1) }));
    await forge(reader, 'ok', 'h:4:aaaaaa', record('ok', 'h:4:aaaaaa', { 'Bad Kind': counters(1) }));
    await forge(reader, 'ok', 'h:5:aaaaaa', record('ok', 'h:5:aaaaaa', { kv: counters(3) }));
    // A record under a key that is not its own (copied, or naming another service).
    await forge(reader, 'ok', 'h:6:aaaaaa', record('other', 'h:7:aaaaaa', { kv: counters(1) }));
    await forge(reader, 'ok', 'h:8:aaaaaa', 'not json');
    // A listed key that holds no string (WRONGTYPE for a read of it), and one outside the stats keys.
    const store = (await reader.connect()) as RedisStore;
    deployment.cli('HSET', `${prefix}:stats:ok:h%3A9%3Aaaaaaa`, 'f', 'v');
    await store.indexAdd(`${prefix}:stats-index`, `${prefix}:stats:ok:h%3A9%3Aaaaaaa`, Date.now(), 0, 60_000);
    await store.indexAdd(`${prefix}:stats-index`, `${prefix}:kv:secret`, Date.now(), 0, 60_000);
    const reads = () => deployment.calls('get') + deployment.calls('mget');
    const [before, rangesBefore] = [reads(), deployment.calls('getrange')];
    const fleet = (await reader.fleetStats())!;
    // Each record is read through GETRANGE 0..64 KiB: the 2 MiB one never reaches this process whole.
    expect(reads()).toBe(before);
    expect(deployment.calls('getrange') - rangesBefore).toBe(8);
    expect(fleet.services.map((s) => [s.service, s.instances, s.hits])).toEqual([['ok', 1, 3]]);
    expect(fleet.rejected).toBe(8);
    expect(fleet.truncated).toBe(false);
  });

  it('adds up at most MAX services and reads at most MAX instances; the rest is counted, not held', async () => {
    const prefix = uniquePrefix('fleet');
    const reader = make(prefix);
    const { FLEET_LIMITS } = await import('./fleet-stats.js');
    const services = FLEET_LIMITS.services + 3;
    for (let i = 0; i < services; i++) {
      const service = `svc-${String(i).padStart(4, '0')}`;
      await forge(reader, service, `h:${i}:aaaaaa`, record(service, `h:${i}:aaaaaa`, { kv: counters(1) }));
    }
    const fleet = (await reader.fleetStats())!;
    expect(fleet.services).toHaveLength(FLEET_LIMITS.services);
    expect(fleet.rejected).toBe(3);
    for (let i = services; i < FLEET_LIMITS.instancesPerRead + 1; i++) {
      await forge(reader, 'svc-0000', `h:${i}:aaaaaa`, record('svc-0000', `h:${i}:aaaaaa`, { kv: counters(1) }));
    }
    const full = (await reader.fleetStats())!;
    expect(full.instances.length + full.rejected).toBe(FLEET_LIMITS.instancesPerRead);
    expect(full.truncated).toBe(true);
  }, 120_000);
});
