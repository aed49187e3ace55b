// The writer process of bench/l1.ts: `count` SDK writes of one key (the Python layout, so that
// redis-cli writes the same format), each carrying the moment it was sent, 2 ms apart.
import { createCache, type CacheKey } from '../src/index.js';

const [url, key, count] = process.argv.slice(2) as [string, string, string];
const cache = createCache({ url, backend: 'redis', envFile: false, env: {}, statsPublish: false, keyLayout: 'finrisk-python' });
await cache.connect();
const target: CacheKey = { kind: 'feature', key, format: 'json' };
for (let seq = 0; seq < Number(count); seq++) {
  await cache.set(target, { seq, t: performance.timeOrigin + performance.now() });
  await new Promise((r) => setTimeout(r, 2));
}
await cache.close();
