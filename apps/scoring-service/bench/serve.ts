// The service under load, in its own process so that autocannon does not share its event loop.
// REDIS_URL, USE_CACHE and CACHE_L1_MAX_MB come from bench/load-test.ts; prints `listening <url>` once it serves.
import { createCache } from '@finrisk/cache-core';
import { buildApp } from '../src/app.ts';

const cache = createCache({ url: process.env.REDIS_URL, backend: 'redis', envFile: false, l1: { maxMb: Number(process.env.CACHE_L1_MAX_MB ?? 0) } });
const app = await buildApp({ cache, useCache: process.env.USE_CACHE !== 'false' });
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening ${address}\n`);
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => cache.close())
    .finally(() => process.exit(0));
});
