/**
 * cache-ml against what a user would hand-write (issue #14's decision): node-redis at its fastest
 * configuration (no per-command timeout) plus JSON.stringify / JSON.parse of the prediction, for
 * cacheModelPrediction and getCachedPrediction, sequentially and with 100 in flight (targets 0.90
 * and 0.85); and a hot getCachedPrediction through the L1 tier (targets 20x and 5x). Ratios in
 * one run; writes bench-results/cache-ml-baseline.json at the repository root.
 */
import { createCache } from '@finrisk/cache-core';
import { measure, report, startRedisServer, type Measurement, type RatioRow } from '@finrisk/test-utils';
import { createMlCache } from '../src/index.ts';

const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const server = await startRedisServer();
try {
  const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
  const ids = Array.from({ length: 1000 }, (_, i) => `CUST${i}`);
  const px = { expiration: { type: 'PX' as const, value: 3_600_000 } };
  const handKey = (i: number) => `hand:prediction:${ids[i % ids.length]}:credit`;

  const off = createCache({ url: server.url, backend: 'redis', keyPrefix: 'off', envFile: false, env: {}, statsPublish: false });
  const on = createCache({ url: server.url, backend: 'redis', keyPrefix: 'on', envFile: false, env: {}, statsPublish: false, l1: { maxMb: 64 } });
  await Promise.all([off.connect(), on.connect()]);
  // node-redis itself (cache-ml reaches it through cache-core), at its fastest: no per-command timeout.
  const core = (await off.getRedisClient())!;
  const hand = core.duplicate({ commandOptions: { timeout: 0 } } as Parameters<typeof core.duplicate>[0]);
  await hand.connect();
  for (let i = 0; on.processStats().l1?.serving !== true; i++) {
    if (i > 500) throw new Error('L1 did not start serving');
    await new Promise((r) => setTimeout(r, 10));
  }
  for (let i = 0; i < ids.length; i++) await hand.set(handKey(i), JSON.stringify(prediction), px);
  const ml = createMlCache(off);
  const mlL1 = createMlCache(on);
  for (const cache of [ml, mlL1]) {
    if (!(await cache.cachePredictionsMany(ids.map((customerId) => ({ customerId, modelType: 'credit', prediction }))))) throw new Error('not written');
  }
  await on.syncLocal();
  for (const id of ids) await mlL1.getCachedPrediction(id, 'credit'); // fills L1

  const m: Measurement[] = [];
  const ratios: RatioRow[] = [];
  for (const inFlight of [1, 100]) {
    const label = inFlight === 1 ? 'sequential' : `${inFlight} in flight`;
    const target = inFlight === 1 ? 0.9 : 0.85;
    const handSet = await measure(`hand-written SET + JSON.stringify (${label})`, (i) => hand.set(handKey(i), JSON.stringify(prediction), px), OPS, inFlight);
    const mlSet = await measure(`cacheModelPrediction (${label})`, (i) => ml.cacheModelPrediction(ids[i % ids.length]!, 'credit', prediction), OPS, inFlight);
    const handGet = await measure(`hand-written GET + JSON.parse (${label})`, async (i) => JSON.parse((await hand.get(handKey(i)))!), OPS, inFlight);
    const mlGet = await measure(`getCachedPrediction (${label})`, (i) => ml.getCachedPrediction(ids[i % ids.length]!, 'credit'), OPS, inFlight);
    const hot = await measure(`getCachedPrediction, L1 hit (${label})`, (i) => mlL1.getCachedPrediction(ids[i % ids.length]!, 'credit'), OPS * 10, inFlight);
    m.push(handSet, mlSet, handGet, mlGet, hot);
    for (const [ours, base, what] of [[mlSet, handSet, 'cacheModelPrediction / hand-written SET + JSON.stringify'], [mlGet, handGet, 'getCachedPrediction / hand-written GET + JSON.parse']] as const) {
      const ratio = ours.opsPerSec / base.opsPerSec;
      ratios.push({ what: `${what}, ${label}`, ratio, target: `>= ${target.toFixed(2)}`, met: ratio >= target, detail: `${ours.usPerOp.toFixed(2)} vs ${base.usPerOp.toFixed(2)} µs per call` });
    }
    const hotTarget = inFlight === 1 ? 20 : 5;
    const hotRatio = hot.opsPerSec / handGet.opsPerSec;
    ratios.push({ what: `getCachedPrediction L1 hit / hand-written GET + JSON.parse, ${label}`, ratio: hotRatio, target: `>= ${hotTarget}`, met: hotRatio >= hotTarget, detail: `${hot.usPerOp.toFixed(3)} vs ${handGet.usPerOp.toFixed(2)} µs per read` });
  }
  // The hot rows must have made no round trip: the token and the prediction both came from L1.
  const mgets = () => Number(/^cmdstat_mget:calls=(\d+)/m.exec(server.cli('INFO', 'commandstats'))?.[1] ?? 0);
  const before = mgets();
  for (const id of ids) await mlL1.getCachedPrediction(id, 'credit');
  if (mgets() !== before) throw new Error(`the L1 rows went to Redis (${mgets() - before} MGETs for ${ids.length} hot reads)`);
  const stats = on.processStats();
  report('cache-ml-baseline', m, ratios, { ops: OPS, l1: { predictionHits: stats.byKind.prediction?.l1Hits, predictionMisses: stats.byKind.prediction?.l1Misses } });
  await hand.close();
  await Promise.all([off.close(), on.close()]);
} finally {
  await server.stop();
}
