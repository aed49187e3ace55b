import { startRedisCluster, startRedisSentinel, uniquePrefix, type RedisCluster, type RedisSentinelGroup, type RedisServer } from '@finrisk/test-utils';
import { describe, expect, it } from 'vitest';
import { createCache, type Cache } from '../cache.js';
import { resolveConfig } from '../config.js';
import { clusterSlot } from './cluster-slot.js';
import { RedisClusterStore } from './redis-cluster-store.js';
import { RedisStore } from './redis-store.js';
import { describeStoreContract } from './store-contract.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `condition` holds, at most `timeoutMs`; true when it did. A hang guard, not a timing assertion. */
async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, pauseMs = 50): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(pauseMs)) {
    if (await condition()) return true;
  }
  return condition();
}

/**
 * Reads every acknowledged write back, retried together until `timeoutMs` while the client
 * settles on the new master (a read may time out on a loaded machine right after a failover);
 * returns the keys that never read back as written, so that a loss fails and names them.
 */
async function unreadable(cache: Cache, acknowledged: Map<string, number>, timeoutMs = 15_000): Promise<string[]> {
  let missing = [...acknowledged.keys()];
  for (const deadline = Date.now() + timeoutMs; missing.length > 0 && Date.now() < deadline; await sleep(100)) {
    const values = await cache.getMany(missing);
    missing = missing.filter((k, i) => values[i] !== acknowledged.get(k));
  }
  return missing;
}

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
/**
 * Waits until every replica of `master` has received all of its writes. Redis replicates
 * asynchronously: a write acknowledged in the last instant before a master dies may not have
 * reached the replica that takes over, and Redis does not promise to keep it (only WAIT would).
 * The failover tests kill the master at a moment when nothing acknowledged is still unreplicated,
 * so that "no acknowledged write lost" tests the SDK, not the replication lag of a loaded machine.
 */
async function waitReplicated(master: RedisServer, nodes: readonly RedisServer[]): Promise<void> {
  const field = (info: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(5)) {
    const info = master.cli('INFO', 'replication');
    const offset = field(info, 'master_repl_offset');
    const ports = [...info.matchAll(/^slave\d+:.*port=(\d+)/gm)].map((m) => Number(m[1]));
    const offsets = ports.map((port) => field(nodes.find((n) => n.port === port)!.cli('INFO', 'replication'), 'slave_repl_offset'));
    if (ports.length > 0 && offsets.every((o) => o >= offset)) return;
  }
  throw new Error(`the replicas of ${master.port} did not catch up within 10 s`);
}

async function streamThrough(cache: Cache, disrupt: () => Promise<void>, probeKey: (i: number) => string) {
  const acknowledged = new Map<string, number>();
  let thrown: unknown;
  let i = 0;
  let stop = false;
  let hold = false;
  let holding = 0;
  let disruptedAt = 0;
  let firstSuccessAfter = 0;
  const worker = async () => {
    while (!stop) {
      if (hold) {
        holding++;
        while (hold) await sleep(1);
        holding--;
        continue;
      }
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
  // Counts of writes, not time windows: a slow machine makes fewer per second.
  await waitUntil(() => acknowledged.size >= 20);
  // A short pause with nothing in flight, for the kill (see waitReplicated); the stream goes on
  // against the dead master right after it.
  hold = true;
  while (holding < workers.length) await sleep(1);
  await disrupt();
  disruptedAt = Date.now();
  hold = false;
  await waitUntil(() => firstSuccessAfter > 0, 60_000);
  const before = acknowledged.size;
  if (firstSuccessAfter) await waitUntil(() => acknowledged.size >= before + 20);
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
      expect(await cache.countByPrefix('k')).toEqual({ count: 50, complete: true });
      expect(await cache.deleteByPrefix('k')).toEqual({ count: 50, complete: true });
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
      // The other masters mark it failed after the node timeout and a gossip round or two.
      let check = await cache.checkConnection();
      await waitUntil(async () => !(check = await cache.checkConnection()).ok, 30_000, 100);
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
  }, 90_000);

  it('survives a master being killed: no exception, service back within a bounded time, no acknowledged write lost', async () => {
    const own = await startRedisCluster();
    const cache = createCache({ clusterNodes: own.seeds.split(','), backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, commandTimeoutMs: 500 });
    try {
      // One hash tag: every key of the stream lives in the killed master's slot.
      const key = (i: number) => `{stream}-${i}`;
      await cache.set(key(0), 0);
      const victim = own.masterOf(cache.keys.key('kv', key(0)).key);
      const { thrown, recoveryMs, acknowledged } = await streamThrough(cache, async () => {
        await waitReplicated(victim, own.nodes);
        await victim.kill();
      }, key);
      expect(thrown).toBeUndefined();
      expect(recoveryMs).toBeLessThan(30_000);
      console.log(`cluster failover: writes to every slot succeeded again ${recoveryMs} ms after the master was killed`);
      await own.waitHealthy();
      // every acknowledged write is readable after recovery
      expect(await unreadable(cache, acknowledged)).toEqual([]);
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
      const { thrown, recoveryMs, acknowledged } = await streamThrough(cache, async () => {
        await waitReplicated(group.master, group.replicas);
        await group.master.kill();
      }, key);
      expect(thrown).toBeUndefined();
      expect(recoveryMs).toBeLessThan(30_000);
      console.log(`sentinel failover: writes succeeded again ${recoveryMs} ms after the master was killed`);
      expect(group.currentMasterPort()).not.toBe(oldMaster);
      expect(await unreadable(cache, acknowledged)).toEqual([]);
      // Healthy again (polled: stats' own PING and INFO may miss the 500 ms deadline on a loaded machine).
      expect(await waitUntil(async () => (await cache.stats()).status === 'healthy', 15_000, 100)).toBe(true);
    } finally {
      await cache.close();
      await group.stop();
    }
  }, 90_000);
});
