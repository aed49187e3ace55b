// One updater of the concurrency test (features-concurrency.integration.test.ts): a process of
// its own, with its own client, that updates one feature of every customer `rounds` times, the
// value of round r being r. Exits 0 when every update was stored, 1 otherwise (stderr says how
// many failed). Plain JavaScript on the built packages: sixteen processes each compiling the
// sources with tsx took most of the test's time and starved the suites running beside it.
import { createCache } from '@finrisk/cache-core';
import { createMlCache } from '@finrisk/cache-ml';

const [connection, prefix, layout, feature, customers, rounds] = process.argv.slice(2);
const cache = createCache({
  ...JSON.parse(connection),
  backend: 'redis',
  keyPrefix: prefix,
  keyLayout: layout,
  envFile: false,
  env: {},
  commandTimeoutMs: 20_000,
  // Sixteen processes start at once on a loaded machine: the default connect deadline is for services.
  connectTimeoutMs: 30_000,
  statsPublish: false,
});
const ml = createMlCache(cache);
const errors = [];
cache.on('error', (e) => void (errors.length < 3 && errors.push(`${e.operation}: ${e.error.code} ${e.error.message}`)));
const ids = Array.from({ length: Number(customers) }, (_, i) => `CUST${i}`);
let failed = 0;
for (let round = 1; round <= Number(rounds); round++) {
  // Every customer's update of this round in flight at once: many writers meet on the same keys.
  const stored = await Promise.all(ids.map((id) => ml.updateFeatures(id, { [feature]: round }, { ttl: 3600 })));
  failed += stored.filter((ok) => !ok).length;
  if (failed > 0 && errors.length === 0) errors.push('returned false');
}
await cache.close();
if (failed > 0) {
  process.stderr.write(`${feature}: ${failed} updates not stored: ${errors.join(' | ')}\n`);
  process.exit(1);
}
