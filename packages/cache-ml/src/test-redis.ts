import { createCache, type Cache, type CreateCacheOptions } from '@finrisk/cache-core';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';

/** Helpers for integration tests: a throwaway redis-server and caches on it (never the Redis on 6379). */
export interface TestRedis {
  server: RedisServer;
  /** A cache on the throwaway server with its own key prefix, closed by `stop()`. */
  cache(options?: CreateCacheOptions): Cache;
  /** `calls` of one command in INFO commandstats (e.g. 'mget'). */
  calls(command: string): number;
  /** A numeric field of INFO stats (e.g. 'total_reads_processed'). */
  stat(field: string): number;
  stop(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const server = await startRedisServer();
  const caches: Cache[] = [];
  return {
    server,
    cache(options = {}) {
      const cache = createCache({
        url: server.url,
        backend: 'redis',
        keyPrefix: uniquePrefix('ml'),
        envFile: false,
        env: {},
        commandTimeoutMs: 5000,
        ...options,
      });
      caches.push(cache);
      return cache;
    },
    calls(command) {
      const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(server.cli('INFO', 'commandstats'));
      return match ? Number(match[1]) : 0;
    },
    stat(field) {
      const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(server.cli('INFO', 'stats'));
      if (!match) throw new Error(`INFO stats has no ${field}`);
      return Number(match[1]);
    },
    async stop() {
      await Promise.all(caches.map((c) => c.close()));
      await server.stop();
    },
  };
}
