import { createCache, type Cache, type CacheKey, type CreateCacheOptions } from '@finrisk/cache-core';
import { singleNode, uniquePrefix, type RedisDeployment, type RedisTopology } from '@finrisk/test-utils';

/**
 * Helpers for integration tests: a throwaway Redis deployment (one server, a cluster or a
 * sentinel group; never the Redis on 6379) and caches on it.
 */
export interface TestRedis {
  /** The deployment, with its server-side probes (`cli`, `keys`, `exists`). */
  deployment: RedisDeployment;
  /** A cache on the deployment with its own key prefix, closed by `stop()`. */
  cache(options?: CreateCacheOptions): Cache;
  /** `redis-cli` for a command on one key, on the node that serves it. */
  cli(...args: string[]): string;
  /** `calls` of one command in INFO commandstats (e.g. 'mget'), summed over the masters. */
  calls(command: string): number;
  /** A numeric field of INFO stats (e.g. 'total_reads_processed'), summed over the masters. */
  stat(field: string): number;
  /** How many nodes `calls` and `stat` ask (each `stat` call adds one socket read per node). */
  nodesAsked(): number;
  /**
   * How many MGETs a batch read of `keys` costs: the cache reads in chunks of 1,000 keys, each one
   * MGET on a single server and one per hash slot on a cluster (all sent at once).
   */
  mgetsFor(keys: readonly (CacheKey | string)[]): Promise<number>;
  stop(): Promise<void>;
}

export async function startTestRedis(topology: RedisTopology = singleNode): Promise<TestRedis> {
  const deployment = await topology.start();
  const caches: Cache[] = [];
  return {
    deployment,
    cache(options = {}) {
      const cache = createCache({
        ...deployment.connection,
        backend: 'redis',
        keyPrefix: uniquePrefix('ml'),
        envFile: false,
        env: {},
        commandTimeoutMs: 5000,
        // The fleet-statistics publisher writes a SET every 10 s; the tests count SETs on the
        // server, and a test that ran past a publication on a loaded machine saw 501 for 500.
        statsPublish: false,
        ...options,
      });
      caches.push(cache);
      return cache;
    },
    cli: (...args) => deployment.cli(...args),
    calls: (command) => deployment.calls(command),
    stat: (field) => deployment.stat(field),
    nodesAsked: () => deployment.masters().length,
    async mgetsFor(keys) {
      // The slots come from the cluster itself (CLUSTER KEYSLOT), not from the SDK's own slot code.
      let slotOf: ((key: string) => Promise<unknown>) | undefined;
      if (deployment.topology === 'cluster') {
        const probe = createCache({ ...deployment.connection, backend: 'redis', envFile: false, env: {}, commandTimeoutMs: 5000, statsPublish: false });
        caches.push(probe);
        const client = (await probe.getRedisClient()) as unknown as { sendCommand(firstKey: string, readonly: boolean, args: string[]): Promise<unknown> };
        slotOf = (key) => client.sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key]);
      }
      let mgets = 0;
      for (let start = 0; start < keys.length; start += 1000) {
        const chunk = keys.slice(start, start + 1000).map((k) => (typeof k === 'string' ? k : k.key));
        mgets += slotOf ? new Set(await Promise.all(chunk.map(slotOf))).size : 1;
      }
      return mgets;
    },
    async stop() {
      await Promise.all(caches.map((c) => c.close()));
      await deployment.stop();
    },
  };
}
