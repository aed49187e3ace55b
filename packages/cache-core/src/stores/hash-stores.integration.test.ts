import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisCluster, startRedisServer, type RedisCluster, type RedisServer } from '@finrisk/test-utils';
import { resolveConfig } from '../config.js';
import { describeHashStoreContract } from './hash-store-contract.js';
import { LocalStore } from './local-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisClusterStore } from './redis-cluster-store.js';
import { RedisStore } from './redis-store.js';

// The hash contract on every store. On a server with field expiry (FINRISK_REDIS_SERVER naming a
// Redis 7.4+) the Redis runs test the server's own; on 7.0 and Valkey 8 the store's deadlines.
let server: RedisServer | undefined;
describeHashStoreContract(
  'redis',
  async () => {
    server = await startRedisServer();
    const store = new RedisStore(resolveConfig({ url: server.url, envFile: false, env: {}, commandTimeoutMs: 5000 }));
    await store.connect(5000);
    return store;
  },
  async () => server?.stop(),
);

let cluster: RedisCluster | undefined;
describeHashStoreContract(
  'cluster',
  async () => {
    cluster = await startRedisCluster();
    const store = new RedisClusterStore(resolveConfig({ clusterNodes: cluster.seeds.split(','), envFile: false, env: {}, commandTimeoutMs: 5000 }));
    await store.connect(10_000);
    return store;
  },
  async () => cluster?.stop(),
);

describeHashStoreContract('memory', async () => {
  const store = new MemoryStore();
  await store.connect();
  return store;
});

const dir = mkdtempSync(join(tmpdir(), 'finrisk-local-hash-'));
describeHashStoreContract(
  'local',
  async () => {
    const store = new LocalStore({ path: join(dir, 'cache.db') });
    await store.connect();
    return store;
  },
  async () => rmSync(dir, { recursive: true, force: true }),
);
