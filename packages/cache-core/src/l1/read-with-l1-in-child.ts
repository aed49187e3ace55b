// Reads values through a cache with L1 in a process of its own, and reports what that left in
// the heap; run by l1-memory.integration.test.ts:
//
//   node --expose-gc --import tsx read-with-l1-in-child.ts REDIS_URL KEY_PREFIX L1_MAX_MB KEY...
//
// Each key (a generic `kv` key under the prefix, held in L1 with `CACHE_L1_KINDS=*`) is read
// twice, the values dropped, and after a full GC it prints one JSON line: the growth of the heap
// and ArrayBuffer memory since before the reads, and the bytes L1 counts.
import { createCache } from '../index.js';

declare const gc: () => void;

const [url, keyPrefix, maxMb, ...keys] = process.argv.slice(2);
const cache = createCache({ url, backend: 'redis', keyPrefix, envFile: false, env: {}, statsPublish: false, commandTimeoutMs: 30_000, l1: { maxMb: Number(maxMb), kinds: '*' } });
await cache.connect();
for (let i = 0; cache.processStats().l1?.serving !== true; i++) {
  if (i > 1000) throw new Error('L1 did not start serving');
  await new Promise((resolve) => setTimeout(resolve, 10));
}
/**
 * The heap and ArrayBuffer memory once garbage is gone. V8 frees ArrayBuffer backing stores (the
 * inflated bodies, decoded arrays) after a GC, from a task of the event loop: a figure read right
 * after gc() still counts a few of them. So: GC, let the loop run, and take the lowest figure
 * once it stops falling.
 */
async function memory(): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (let round = 0, steady = 0; round < 100 && steady < 3; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const m = process.memoryUsage();
    const now = m.heapUsed + m.arrayBuffers;
    steady = now >= lowest - 1024 * 1024 ? steady + 1 : 0;
    lowest = Math.min(lowest, now);
  }
  return lowest;
}
const before = await memory();
let read = 0;
for (const key of keys) {
  for (let i = 0; i < 2; i++) if ((await cache.get(key)) !== null) read++;
}
const growth = (await memory()) - before;
const stats = cache.processStats();
process.stdout.write(`${JSON.stringify({ read, growthBytes: growth, l1Bytes: stats.l1?.bytes ?? 0, l1Hits: stats.byKind.kv?.l1Hits ?? 0 })}\n`);
await cache.close();
