import { startRedisCluster, startRedisSentinel, uniquePrefix, type RedisCluster, type RedisSentinelGroup } from '@finrisk/test-utils';
import { describe, expect, it } from 'vitest';
import { createCache, type Cache } from '../cache.js';
import { resolveConfig } from '../config.js';
import { clusterSlot } from './cluster-slot.js';
import { RedisClusterStore } from './redis-cluster-store.js';
import { RedisStore } from './redis-store.js';
import { describeStoreContract } from './store-contract.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: RedisCluster | undefined;
describeStoreContract(
  'cluster',
  async () => {
    cluster = await startRedisCluster();
    const store = new RedisClusterStore(resolveConfig({ clusterNodes: cluster.seeds.split(','), envFile: false, env: {}, commandTimeoutMs: 5000 }));
    await store.connect(10_000);
    return store;
  },
  async () => cluster?.stop(),
);

let sentinel: RedisSentinelGroup | undefined;
describeStoreContract(
  'sentinel',
  async () => {
    sentinel = await startRedisSentinel();
    const store = new RedisStore(
      resolveConfig({ sentinels: sentinel.seeds.split(','), sentinelMaster: sentinel.masterName, envFile: false, env: {}, commandTimeoutMs: 5000 }),
    );
    await store.connect(10_000);
    return store;
  },
  async () => sentinel?.stop(),
);

/**
 * Writes and reads without pause while `disrupt` runs, and returns: whether any call threw, how
 * long the cache answered nothing but failures after the disruption, and the writes that were
 * acknowledged (which must all be readable afterwards).
 */
async function streamThrough(cache: Cache, disrupt: () => Promise<void>, probeKey: (i: number) => string) {
  const acknowledged = new Map<string, number>();
  let thrown: unknown;
  let i = 0;
  let stop = false;
  let disruptedAt = 0;
  let firstSuccessAfter = 0;
  const worker = async () => {
    while (!stop) {
      const n = i++;
      const key = probeKey(n);
      try {
        const ok = await cache.set(key, n);
        if (ok) {
          acknowledged.set(key, n);
          if (disruptedAt && !firstSuccessAfter) firstSuccessAfter = Date.now();
        }
        await cache.get(probeKey(Math.floor(Math.random() * i)));
      } catch (error) {
        thrown = error;
      }
      await sleep(2);
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  await sleep(300);
  await disrupt();
  disruptedAt = Date.now();
  for (let waited = 0; !firstSuccessAfter && waited < 60_000; waited += 50) await sleep(50);
  await sleep(300);
  stop = true;
  await Promise.all(workers);
  return { thrown, recoveryMs: firstSuccessAfter ? firstSuccessAfter - disruptedAt : Infinity, acknowledged };
}

describe('Redis Cluster', () => {
  it('computes the same slots as the cluster', async () => {
    const own = await startRedisCluster({ replicas: 0 });
    try {
      for (const key of ['a', 'finrisk:prediction:CUST001:credit', 'clé-客户', '{tag}x', 'x{tag}', 'k'.repeat(300)]) {
        expect(clusterSlot(key)).toBe(Number(own.cli('CLUSTER', 'KEYSLOT', key)));
      }
    } finally {
      await own.stop();
    }
  });

  it('reports totals and one line per node, with roles', async () => {
    const own = await startRedisCluster();
    const cache = createCache({ clusterNodes: own.seeds.split(','), backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, commandTimeoutMs: 2000 });
    try {
      await cache.setMany(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: i })));
      expect(await cache.getMany(Array.from({ length: 50 }, (_, i) => `k${i}`))).toEqual(Array.from({ length: 50 }, (_, i) => i));
      await cache.get('missing');
      const stats = await cache.stats();
      expect(stats.status).toBe('healthy');
      expect(stats.keys).toBe(50);
      expect(stats.keyspaceHits).toBeGreaterThanOrEqual(50);
      expect(stats.keyspaceMisses).toBeGreaterThanOrEqual(1);
      const nodes = stats.nodes!;
      expect(nodes).toHaveLength(6);
      expect(nodes.filter((n) => n.role === 'master')).toHaveLength(3);
      expect(await cache.countByPrefix('k')).toBe(50);
      expect(await cache.deleteByPrefix('k')).toBe(50);
      expect((await cache.checkConnection()).ok).toBe(true);
    } finally {
      await cache.close();
      await own.stop();
    }
  });

  it('fails the check when a slot is not served', async () => {
    const own = await startRedisCluster({ replicas: 0 });
    const cache = createCache({ clusterNodes: own.seeds.split(','), backend: 'redis', envFile: false, env: {}, commandTimeoutMs: 2000 });
    try {
      expect((await cache.checkConnection()).ok).toBe(true);
      await own.nodes[1]!.kill(); // no replica: its slots go unserved
      let check = await cache.checkConnection();
      for (let i = 0; i < 100 && check.ok; i++) {
        await sleep(100);
        check = await cache.checkConnection();
      }
      expect(check.ok).toBe(false);
      // A cache created after the failure (its client may know fewer masters) agrees.
      const fresh = createCache({ clusterNodes: own.seeds.split(','), backend: 'redis', envFile: false, env: {}, commandTimeoutMs: 2000 });
      try {
        expect((await fresh.checkConnection()).ok).toBe(false);
        expect((await fresh.stats()).status).toBe('unhealthy');
      } finally {
        await fresh.close();
      }
    } finally {
      await cache.close();
      await own.stop();
    }
  });

  it('survives a master being killed: no exception, service back within a bounded time, no acknowledged write lost', async () => {
    const own = await startRedisCluster();
    const cache = createCache({ clusterNodes: own.seeds.split(','), backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, commandTimeoutMs: 500 });
    try {
      // One hash tag: every key of the stream lives in the killed master's slot.
      const key = (i: number) => `{stream}-${i}`;
      await cache.set(key(0), 0);
      const victim = own.masterOf(cache.keys.key('kv', key(0)).key);
      const { thrown, recoveryMs, acknowledged } = await streamThrough(cache, () => victim.kill(), key);
      expect(thrown).toBeUndefined();
      expect(recoveryMs).toBeLessThan(30_000);
      console.log(`cluster failover: writes to every slot succeeded again ${recoveryMs} ms after the master was killed`);
      await own.waitHealthy();
      // every acknowledged write is readable after recovery
      let missing = 0;
      for (const [k, v] of acknowledged) {
        let got = await cache.get(k);
        for (let tries = 0; got === null && tries < 20; tries++) {
          await sleep(100);
          got = await cache.get(k);
        }
        if (got !== v) missing++;
      }
      expect(missing).toBe(0);
      expect(acknowledged.size).toBeGreaterThan(10);
    } finally {
      await cache.close();
      await own.stop();
    }
  }, 90_000);
});

describe('Redis Sentinel', () => {
  it('follows a failover: no exception, service back within a bounded time, no acknowledged write lost', async () => {
    const group = await startRedisSentinel();
    const cache = createCache({
      sentinels: group.seeds.split(','), sentinelMaster: group.masterName, backend: 'redis', keyPrefix: uniquePrefix(),
      envFile: false, env: {}, commandTimeoutMs: 500,
    });
    try {
      const key = (i: number) => `stream-${i}`;
      expect(await cache.set(key(0), 0)).toBe(true);
      const oldMaster = group.currentMasterPort();
      const { thrown, recoveryMs, acknowledged } = await streamThrough(cache, () => group.master.kill(), key);
      expect(thrown).toBeUndefined();
      expect(recoveryMs).toBeLessThan(30_000);
      console.log(`sentinel failover: writes succeeded again ${recoveryMs} ms after the master was killed`);
      expect(group.currentMasterPort()).not.toBe(oldMaster);
      let missing = 0;
      for (const [k, v] of acknowledged) if ((await cache.get(k)) !== v) missing++;
      expect(missing).toBe(0);
      expect((await cache.stats()).status).toBe('healthy');
    } finally {
      await cache.close();
      await group.stop();
    }
  }, 90_000);
});
