import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, type RedisServer } from '@finrisk/test-utils';
import { resolveConfig } from '../config.js';
import { LocalStore } from './local-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import { describeStoreContract } from './store-contract.js';

let server: RedisServer | undefined;
describeStoreContract(
  'redis',
  async () => {
    server = await startRedisServer();
    const store = new RedisStore(resolveConfig({ url: server.url, envFile: false, env: {}, commandTimeoutMs: 5000 }));
    await store.connect(5000);
    return store;
  },
  async () => server?.stop(),
);

describeStoreContract('memory', async () => {
  const store = new MemoryStore();
  await store.connect();
  return store;
});

const dir = mkdtempSync(join(tmpdir(), 'finrisk-local-'));
describeStoreContract(
  'local',
  async () => {
    const store = new LocalStore({ path: join(dir, 'cache.db') });
    await store.connect();
    return store;
  },
  async () => rmSync(dir, { recursive: true, force: true }),
);
