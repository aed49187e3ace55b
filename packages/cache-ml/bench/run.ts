/**
 * cache-ml benchmark: `pnpm --filter @finrisk/cache-ml bench`. Starts its own redis-server,
 * prints a table of ratios and writes bench-results/cache-ml.json at the repository root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCache, encodeValue } from '@finrisk/cache-core';
import { startRedisServer } from '@finrisk/test-utils';
import { createMlCache } from '../src/index.ts';

const N_BATCH = 10_000;
const N_STAMPEDE = 1_000;
const N_SINGLE = 20_000; // enough calls per round that JIT warm-up does not weigh on the longer SDK path
const IN_FLIGHT = 100;

const server = await startRedisServer();
const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: 'bench', envFile: false, env: {}, commandTimeoutMs: 10_000 });
const ml = createMlCache(cache);
// The raw SET/GET baseline: node-redis in its fastest configuration measured (no per-command
// timeout, Buffer replies set at creation; through withTypeMapping its typed commands cost ~2x).
const core = await cache.getRedisClient();
if (!core) throw new Error('the bench needs the Redis backend');
const raw = core.duplicate({ commandOptions: { timeout: 0, typeMapping: { [36 /* RESP blob string '$' */]: Buffer } } } as Parameters<typeof core.duplicate>[0]);
await raw.connect();
await raw.set('raw:probe', Buffer.from([0xf1]));
if (!Buffer.isBuffer(await raw.get('raw:probe'))) throw new Error('the raw baseline must read Buffers, like the SDK');

const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
const ms = (start: number) => performance.now() - start;
async function best(runs: number, fn: () => Promise<void>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    min = Math.min(min, ms(start));
  }
  return min;
}

// 1. Batch read of 10,000 predictions vs 10,000 sequential single awaits.
const ids = Array.from({ length: N_BATCH }, (_, i) => `CUST${i}`);
await ml.cachePredictionsMany(ids.map((customerId) => ({ customerId, modelType: 'credit', prediction })), { ttl: null });
// Steady state for both paths: JIT warm-up would otherwise land on whichever is measured first.
for (let i = 0; i < 3; i++) await ml.getCachedPredictions(ids, 'credit');
for (const id of ids.slice(0, 2000)) await ml.getCachedPrediction(id, 'credit');
const batchMs = await best(10, async () => {
  const out = await ml.getCachedPredictions(ids, 'credit');
  if (out.some((p) => p === null)) throw new Error('batch read missed');
});
const singleMs = await best(2, async () => {
  for (const id of ids) if ((await ml.getCachedPrediction(id, 'credit')) === null) throw new Error('single read missed');
});

// 2. Stampede: 1,000 read-through callers on one cold key vs one compute + one round trip.
const COMPUTE_MS = 20;
const compute = () => new Promise<typeof prediction>((resolve) => setTimeout(() => resolve(prediction), COMPUTE_MS));
const pingMs = await best(50, async () => {
  await ml.getCachedPrediction('warm-rtt', 'credit');
});
const baselineMs = await best(5, async () => {
  await compute();
  await ml.getCachedPrediction('warm-rtt', 'credit');
});
let computes = 0;
const stampedeRuns: number[] = [];
for (let run = 0; run < 5; run++) {
  const before = computes;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: N_STAMPEDE }, () =>
      ml.getOrComputePrediction(`COLD${run}`, 'credit', () => {
        computes++;
        return compute();
      }),
    ),
  );
  stampedeRuns.push(ms(start));
  if (computes - before !== 1) throw new Error(`stampede ran compute ${computes - before} times`);
}
const stampedeMs = Math.min(...stampedeRuns);

// 3. cacheModelPrediction / getCachedPrediction vs raw SET/GET of the same bytes.
const entry = { value: prediction, cachedAt: Date.now(), generation: 'g', modelVersion: 'v1.2.0' };
const bytes = await encodeValue(entry);
const rawKeys = Array.from({ length: N_SINGLE }, (_, i) => `raw:${i % N_BATCH}`);
await ml.cacheModelPrediction('warm', 'credit', prediction);
async function sequential(fn: (i: number) => Promise<unknown>) {
  const start = performance.now();
  for (let i = 0; i < N_SINGLE; i++) await fn(i);
  return ms(start);
}
async function inFlight(fn: (i: number) => Promise<unknown>) {
  const start = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < N_SINGLE) await fn(next++);
  }));
  return ms(start);
}
/** The SDK's and the raw client's runs alternate, so that a slow moment of the machine hits both; best of `rounds` each. */
async function sideBySide(run: typeof sequential, ours: (i: number) => Promise<unknown>, theirs: (i: number) => Promise<unknown>, rounds = 4) {
  let [ml, rawMs] = [Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    ml = Math.min(ml, await run(ours));
    rawMs = Math.min(rawMs, await run(theirs));
  }
  return { ml, raw: rawMs };
}
const mlSet = (i: number) => ml.cacheModelPrediction(ids[i % N_BATCH]!, 'credit', prediction);
const mlGet = (i: number) => ml.getCachedPrediction(ids[i % N_BATCH]!, 'credit');
const rawSet = (i: number) => raw.set(rawKeys[i]!, bytes, { expiration: { type: 'PX', value: 3_600_000 } });
const rawGet = (i: number) => raw.get(rawKeys[i]!);
// Raw reads read existing keys, like the SDK's.
for (let i = 0; i < N_BATCH; i++) await rawSet(i);
// For reference: the floor cache-core itself sets (Cache.get of the same bytes, no cache-ml).
await cache.set('core-ref', entry, { ttl: 3600 });
const coreGet = await sideBySide(sequential, () => cache.get('core-ref'), rawGet, 2);
const figures = {
  seqSet: await sideBySide(sequential, mlSet, rawSet),
  seqGet: await sideBySide(sequential, mlGet, rawGet),
  parSet: await sideBySide(inFlight, mlSet, rawSet),
  parGet: await sideBySide(inFlight, mlGet, rawGet),
};

const rows = [
  { name: `batch read ${N_BATCH} (1 MGET) vs ${N_BATCH} single awaits`, ratio: singleMs / batchMs, target: '>= 20x', pass: singleMs / batchMs >= 20, detail: `${batchMs.toFixed(1)} ms vs ${singleMs.toFixed(1)} ms` },
  { name: `stampede ${N_STAMPEDE} callers vs 1 compute (${COMPUTE_MS} ms) + 1 round trip`, ratio: stampedeMs / baselineMs, target: '< 2x', pass: stampedeMs / baselineMs < 2, detail: `${stampedeMs.toFixed(1)} ms vs ${baselineMs.toFixed(1)} ms, computes per run 1` },
  ...(['seqSet', 'seqGet', 'parSet', 'parGet'] as const).map((k) => ({
    name: `${k.startsWith('seq') ? 'sequential' : `${IN_FLIGHT} in flight`} ${k.endsWith('Set') ? 'cacheModelPrediction vs SET' : 'getCachedPrediction vs GET'} (${N_SINGLE} ops)`,
    ratio: figures[k].raw / figures[k].ml,
    target: '>= 0.9',
    pass: figures[k].raw / figures[k].ml >= 0.9,
    detail: `${figures[k].ml.toFixed(1)} ms vs raw ${figures[k].raw.toFixed(1)} ms`,
  })),
  { name: `reference: sequential cache-core Cache.get vs GET (${N_SINGLE} ops)`, ratio: coreGet.raw / coreGet.ml, target: 'info', pass: true, detail: `${coreGet.ml.toFixed(1)} ms vs raw ${coreGet.raw.toFixed(1)} ms` },
];

console.log(`\ncache-ml bench (redis ${server.cli('INFO', 'server').match(/redis_version:(\S+)/)?.[1]}, node ${process.version}, round trip ${pingMs.toFixed(3)} ms)\n`);
console.log('| measure | ratio | target | ok | detail |\n|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.pass ? 'yes' : 'NO'} | ${r.detail} |`);

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const out = join(root, 'bench-results', 'cache-ml.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, roundTripMs: pingMs, rows }, null, 2)}\n`);
console.log(`\nwrote ${out}`);

await raw.close();
await cache.close();
await server.stop();
