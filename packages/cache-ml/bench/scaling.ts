/**
 * How the cost of prediction batches grows (issue 18): cachePredictionsMany and
 * getCachedPredictions of 1k, 10k, 100k and 1M keys with default settings, on a redis-server of
 * its own (FLUSHALL between sizes): µs per key to write and to read, and bytes per key in Redis
 * (INFO memory's used_memory before and after the write). A batch that answers false or reads
 * back a miss fails the bench. Writes bench-results/cache-ml-scaling.json at the repository root.
 *
 *   pnpm --filter @finrisk/cache-ml exec tsx bench/scaling.ts
 *   ML_SCALING_SIZES=1000,10000 ...   (smaller runs)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCache } from '@finrisk/cache-core';
import { startRedisServer } from '@finrisk/test-utils';
import { createMlCache } from '../src/index.ts';

const sizes = (process.env.ML_SCALING_SIZES ?? '1000,10000,100000,1000000').split(',').map((s) => {
  const n = Number(s.trim().replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`ML_SCALING_SIZES: ${JSON.stringify(s)} is not a positive whole number of keys`);
  return n;
});
/** Keys written (and read) per size at least, over rounds of the same batch: small batches are timed over several. */
const KEYS_PER_SIZE = 200_000;

const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
const server = await startRedisServer();
const memory = () => {
  const text = server.cli('INFO', 'memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { used: field('used_memory'), clients: field('mem_clients_normal') };
};

interface Result {
  keys: number;
  rounds: number;
  writeUsPerKey: number;
  readUsPerKey: number;
  bytesPerKey: number;
  clientBufferBytesAfterWrite: number;
  /** Longest the event loop was blocked at once during the writes of this size (encoding, GC), in ms: a deadline cannot tell it from a slow Redis. */
  writeStallMs: number;
  /** The same during the reads (decoding, GC). */
  readStallMs: number;
}
const results: (Result | { keys: number; error: string })[] = [];
// Default settings: only where Redis is, the backend, the key prefix, and no .env file.
const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: 'scaling', envFile: false });
// Why a batch failed: a failed read of part of a batch answers nulls, so the events say which.
const errors: string[] = [];
cache.on('error', (e) => errors.push(`${e.operation}: ${e.error.code} ${e.error.message}`));
const why = () => {
  const distinct = [...new Set(errors.splice(0))];
  return distinct.length === 0 ? 'no error event' : `${distinct.length} distinct error events, e.g. ${distinct.slice(0, 3).join(' | ')}`;
};
try {
  await cache.connect();
  const loadBefore = loadavg();
  // One batch of the smallest size first, so that no size pays for compiling the code paths.
  {
    const ml = createMlCache(cache);
    const warm = Array.from({ length: 1000 }, (_, i) => ({ customerId: `WARM${i}`, modelType: 'credit', prediction }));
    for (let i = 0; i < 20; i++) {
      if (!(await ml.cachePredictionsMany(warm))) throw new Error('the warm-up batch write answered false');
      await ml.getCachedPredictions(warm.map((w) => w.customerId), 'credit');
    }
  }
  const measureSize = async (keys: number): Promise<Result> => {
    server.cli('FLUSHALL');
    errors.length = 0;
    // A new MlCache: the one before remembers a generation token that FLUSHALL removed, and its
    // first write would be written twice (the recovery of issue 18), which is not what is timed here.
    const ml = createMlCache(cache);
    const ids = Array.from({ length: keys }, (_, i) => `CUST${String(i).padStart(7, '0')}`);
    const entries = ids.map((customerId) => ({ customerId, modelType: 'credit', prediction }));
    const rounds = Math.max(1, Math.min(20, Math.round(KEYS_PER_SIZE / keys)));
    let writeMs = Infinity;
    let readMs = Infinity;
    let bytesPerKey = NaN;
    let clientBuffers = 0;
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    const stalled = () => Math.round(stalls.max / 1e6);
    stalls.enable();
    let writeStallMs = 0;
    let readStallMs = 0;
    for (let round = 0; round < rounds; round++) {
      const before = memory();
      stalls.reset();
      let start = performance.now();
      if (!(await ml.cachePredictionsMany(entries))) throw new Error(`cachePredictionsMany of ${keys} keys answered false after ${Math.round(performance.now() - start)} ms (event loop blocked up to ${stalled()} ms at once): ${why()}`);
      writeMs = Math.min(writeMs, performance.now() - start);
      writeStallMs = Math.max(writeStallMs, stalled());
      if (round === 0) {
        // Bytes the keys take, not the buffers of the connection that carried them.
        const after = memory();
        clientBuffers = after.clients;
        bytesPerKey = (after.used - before.used - (after.clients - before.clients)) / keys;
      }
      stalls.reset();
      start = performance.now();
      const back = await ml.getCachedPredictions(ids, 'credit');
      const tookMs = performance.now() - start;
      readStallMs = Math.max(readStallMs, stalled());
      readMs = Math.min(readMs, tookMs);
      const misses = back.reduce((n, p) => n + (p?.risk_score === prediction.risk_score ? 0 : 1), 0);
      if (back.length !== keys || misses > 0) {
        throw new Error(`getCachedPredictions of ${keys} keys (written: true) read ${misses} misses in ${back.length} answers after ${Math.round(tookMs)} ms (event loop blocked up to ${stalled()} ms at once): ${why()}`);
      }
    }
    stalls.disable();
    return { keys, rounds, writeUsPerKey: (writeMs * 1000) / keys, readUsPerKey: (readMs * 1000) / keys, bytesPerKey, clientBufferBytesAfterWrite: clientBuffers, writeStallMs, readStallMs };
  };
  for (const keys of sizes) {
    try {
      const result = await measureSize(keys);
      results.push(result);
      process.stderr.write(`  ${keys} keys: write ${result.writeUsPerKey.toFixed(2)} µs/key, read ${result.readUsPerKey.toFixed(2)} µs/key, ${result.bytesPerKey.toFixed(0)} B/key, stall ${result.writeStallMs}/${result.readStallMs} ms\n`);
    } catch (error) {
      results.push({ keys, error: (error as Error).message });
      process.stderr.write(`  ${keys} keys: FAILED\n`);
    }
  }
  const redis = server.cli('INFO', 'server').match(/redis_version:(\S+)/)?.[1];
  console.log(`\nprediction batch scaling: cachePredictionsMany / getCachedPredictions, default settings; node ${process.version}, redis ${redis}, ${cpus().length} cores, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  console.log('(best of the rounds; bytes per key: used_memory after the first write minus before, client buffers left out, over the keys;');
  console.log(' stall: longest the event loop was blocked at once during the writes / the reads, which a 250 ms deadline cannot tell from a slow Redis)\n');
  console.log(`${'keys'.padStart(10)}  ${'rounds'.padStart(6)}  ${'write µs/key'.padStart(12)}  ${'read µs/key'.padStart(11)}  ${'bytes/key'.padStart(9)}  ${'stall ms w/r'.padStart(12)}`);
  for (const r of results) {
    if ('error' in r) {
      console.log(`${r.keys.toLocaleString('en-US').padStart(10)}  FAILED`);
      continue;
    }
    console.log(`${r.keys.toLocaleString('en-US').padStart(10)}  ${String(r.rounds).padStart(6)}  ${r.writeUsPerKey.toFixed(2).padStart(12)}  ${r.readUsPerKey.toFixed(2).padStart(11)}  ${r.bytesPerKey.toFixed(0).padStart(9)}  ${`${r.writeStallMs}/${r.readStallMs}`.padStart(12)}`);
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const file = join(root, 'bench-results', 'cache-ml-scaling.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ name: 'cache-ml-scaling', date: new Date().toISOString(), node: process.version, redis, loadavgBefore: loadBefore, loadavgAfter: loadavg(), results }, null, 2)}\n`);
  console.log(`\n  written to ${file}`);
  for (const r of results) {
    if (!('error' in r)) continue;
    console.error(`FAILED: ${r.keys.toLocaleString('en-US')} keys: ${r.error}`);
    process.exitCode = 1;
  }
} finally {
  await cache.close();
  await server.stop();
}
