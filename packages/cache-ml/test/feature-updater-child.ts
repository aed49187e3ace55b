// One updater of the concurrency test (features-concurrency.integration.test.ts): a process of
// its own, with its own client, that updates one feature of every customer `rounds` times, the
// value of round r being r. Exits 0 when every update was stored, 1 otherwise (stderr says how many failed).
import { createCache } from '@finrisk/cache-core';
import { createMlCache } from '../src/ml-cache.ts';

const [connection, prefix, layout, feature, customers, rounds] = process.argv.slice(2) as [string, string, string, string, string, string];
const cache = createCache({
  ...(JSON.parse(connection) as object),
  backend: 'redis',
  keyPrefix: prefix,
  keyLayout: layout as 'finrisk' | 'finrisk-python',
  envFile: false,
  env: {},
  commandTimeoutMs: 20_000,
  // Sixteen processes start at once on a loaded machine: the default connect deadline is for services.
  connectTimeoutMs: 30_000,
  statsPublish: false,
});
const ml = createMlCache(cache);
const errors: string[] = [];
cache.on('error', (e) => void (errors.length < 3 && errors.push(`${e.operation}: ${e.error.code} ${e.error.message}`)));
const ids = Array.from({ length: Number(customers) }, (_, i) => `CUST${i}`);
let failed = 0;
for (let round = 1; round <= Number(rounds); round++) {
  // Every customer's update of this round in flight at once: many writers meet on the same keys.
  const stored = await Promise.all(ids.map((id) => ml.updateFeatures(id, { [feature]: round }, { ttl: 3600 })));
  failed += stored.filter((ok) => !ok).length;
  if (failed > 0 && errors.length === 0) errors.push("returned false");
}
await cache.close();
if (failed > 0) {
  process.stderr.write(`${feature}: ${failed} updates not stored: ${errors.join(' | ')}\n`);
  process.exit(1);
}
