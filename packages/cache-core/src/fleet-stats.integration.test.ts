import { topologies, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from './cache.js';

describe.each(topologies)('fleet statistics on Redis ($name)', (topology) => {
  let deployment: RedisDeployment;
  const open: Cache[] = [];
  beforeAll(async () => {
    deployment = await topology.start();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await deployment?.stop();
  });

  function make(prefix: string, options: CreateCacheOptions): Cache {
    const cache = createCache({ ...deployment.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, ...options } as CreateCacheOptions);
    open.push(cache);
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
    const scans = deployment.calls('scan');
    const fleet = (await batch.fleetStats())!;
    expect(deployment.calls('scan')).toBe(scans);
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
    const ttl = Number(deployment.cli('PTTL', `${prefix}:stats:scoring:${encodeURIComponent(fleet.instances.find((i) => i.service === 'scoring')!.instance)}`));
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
