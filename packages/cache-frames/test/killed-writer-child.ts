// A writer that kills itself (SIGKILL: no clean-up, no finally) at a chosen point of a table
// write, for killed-writer.integration.test.ts. Run with `node --import tsx`:
//
//   killed-writer-child.ts REDIS_URL KEY_PREFIX POINT
//
// POINT: `chunk:N` after the N-th chunk is stored, `staged` once every chunk is stored (before
// the commit), `switched` once the manifest SET has answered (before its TTLs are set and the
// previous version is removed). The table has 200,000 rows in 16 KiB chunks and `ttl: null`.
import { createCache } from '@finrisk/cache-core';
import * as aq from 'arquero';
import { createFrameCache } from '../src/index.js';

const [url, keyPrefix, point] = process.argv.slice(2) as [string, string, string];
const cache = createCache({ url, backend: 'redis', keyPrefix, commandTimeoutMs: 2000, envFile: false, env: {} });
const frames = createFrameCache(cache, { chunkBytes: 16 * 1024, maxBytesInFlight: 256 * 1024, stagingSeconds: 10 });
const die = () => process.kill(process.pid, 'SIGKILL');

if (point === 'switched') {
  // The writes of a commit, in order: the record of writes in progress (at the start), then the manifest.
  let sets = 0;
  cache.on('operation', (e) => {
    if (e.operation === 'set' && e.kind === 'dataframe' && ++sets === 2) die();
  });
}
const n = 200_000;
const table = aq.table({ id: Int32Array.from({ length: n }, (_, i) => i), note: Array.from({ length: n }, (_, i) => `killed-${i}`) });
await frames.cacheDataFrame('t', table, {
  ttl: null,
  onProgress: (p) => {
    if (point === `chunk:${p.chunks}` || (point === 'staged' && p.done)) die();
  },
});
process.stderr.write(`the write ended without reaching ${point}\n`);
process.exit(3);
