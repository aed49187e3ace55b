// The clear functions and model invalidation against a Redis that accepts connections and never
// answers (redis-server stopped with SIGSTOP; every node of a cluster): each ends within the scan
// deadline (plus slack) with 0 / false, or a clear error in strict mode, in both key layouts, and
// works again after the thaw. They are SCAN and UNLINK loops, which had no deadline of their own.
import { FinRiskCacheError, type Cache } from '@finrisk/cache-core';
import { topologies, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlCache, type MlCache } from './ml-cache.js';
import { startTestRedis, type TestRedis } from './test-redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEADLINES = { commandTimeoutMs: 200, scanTimeoutMs: 400, closeTimeoutMs: 400, connectTimeoutMs: 500, breakerThreshold: 1_000_000 } as const;
/** The scan deadline plus slack for a loaded machine: what this catches is a hang. */
const BOUND_MS = DEADLINES.scanTimeoutMs + 5000;
const CONNECTION_CODES = ['E_TIMEOUT', 'E_REDIS_UNAVAILABLE'];
/** What a clear answers when the backend did not: nothing done, not complete, and why. */
const FAILED = { count: 0, complete: false, error: expect.objectContaining({ code: expect.toBeOneOf(CONNECTION_CODES) }) };

/** The longest each call took against a frozen server (printed at the end). */
const slowest = new Map<string, number>();

async function bounded<T>(label: string, fn: () => Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not end within ${BOUND_MS} ms`)), BOUND_MS);
  });
  try {
    const outcome = await Promise.race([fn().then((value) => ({ value }), (error: unknown) => ({ error })), hang]);
    slowest.set(label, Math.max(slowest.get(label) ?? 0, performance.now() - start));
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

/** Every clear and invalidation, with what a lenient cache answers while Redis does not. */
const CALLS: { name: string; run: (ml: MlCache) => Promise<unknown>; answer: unknown }[] = [
  { name: 'clearPredictionCache()', run: (ml) => ml.clearPredictionCache(), answer: FAILED },
  { name: 'clearPredictionCache(customer)', run: (ml) => ml.clearPredictionCache('CUST001'), answer: FAILED },
  { name: 'clearPredictionCache dryRun', run: (ml) => ml.clearPredictionCache(undefined, { dryRun: true }), answer: FAILED },
  { name: 'clearFeatureCache()', run: (ml) => ml.clearFeatureCache(), answer: FAILED },
  { name: 'clearFeatureCache(customer)', run: (ml) => ml.clearFeatureCache('CUST001'), answer: FAILED },
  { name: 'clearFeatureCache dryRun', run: (ml) => ml.clearFeatureCache(undefined, { dryRun: true }), answer: FAILED },
  { name: 'clearModelCache()', run: (ml) => ml.clearModelCache(), answer: FAILED },
  { name: 'clearModelCache(model)', run: (ml) => ml.clearModelCache('credit_model'), answer: FAILED },
  { name: 'clearModelCache dryRun', run: (ml) => ml.clearModelCache(undefined, { dryRun: true }), answer: FAILED },
  { name: 'invalidateModelPredictions', run: (ml) => ml.invalidateModelPredictions('credit'), answer: false },
];

describe.each(topologies)('clear and invalidate on a frozen Redis ($name)', (topology) => {
  let redis: TestRedis;
  let nodes: RedisServer[];

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    // Listed before the freeze: asking a frozen cluster who its masters are would hang redis-cli.
    nodes = redis.deployment.cluster?.nodes ?? redis.deployment.masters();
  });
  afterAll(async () => {
    nodes?.forEach((n) => n.signal('SIGCONT'));
    await redis?.stop();
  });

  const thaw = async () => {
    nodes.forEach((n) => n.signal('SIGCONT'));
    await redis.deployment.cluster?.waitHealthy();
  };

  describe.each(['finrisk', 'finrisk-python'] as const)('%s layout', (layout) => {
    it.each(['lenient', 'strict'] as const)('%s: every clear ends within the scan deadline, and works again after the thaw', async (mode) => {
      const cache: Cache = redis.cache({ ...DEADLINES, keyLayout: layout, strict: mode === 'strict' });
      const ml = createMlCache(cache);
      expect(await ml.cacheModelPrediction('CUST001', 'credit', { risk_score: 0.5 })).toBe(true);
      expect(await ml.cacheFeatures('CUST001', { age: 40 })).toBe(true);
      nodes.forEach((n) => n.signal('SIGSTOP'));
      try {
        for (const call of CALLS) {
          const outcome = await bounded(`${call.name} (${layout}, ${mode})`, () => call.run(ml));
          if (mode === 'strict') {
            expect(FinRiskCacheError.isInstance(outcome.error), `${call.name} answered ${JSON.stringify(outcome.value)}`).toBe(true);
            expect((outcome.error as FinRiskCacheError).code, call.name).toBeOneOf(CONNECTION_CODES);
          } else {
            expect(outcome.error, `${call.name} threw ${String(outcome.error)}`).toBeUndefined();
            expect(outcome.value, call.name).toEqual(call.answer);
          }
        }
      } finally {
        await thaw();
      }
      // The same cache works again: write, count, clear.
      let written = false;
      for (const deadline = Date.now() + 30_000; !written && Date.now() < deadline; ) {
        written = await ml.cacheModelPrediction('CUST009', 'credit', { risk_score: 0.1 }).catch(() => false);
        if (!written) await sleep(100);
      }
      expect(written).toBe(true);
      expect(await ml.getCachedPrediction('CUST009', 'credit')).toEqual({ risk_score: 0.1 });
      expect(await ml.clearPredictionCache('CUST009', { dryRun: true })).toEqual({ count: 1, complete: true });
      expect(await ml.invalidateModelPredictions('credit')).toBe(true);
      expect(await ml.getCachedPrediction('CUST009', 'credit')).toBeNull();
    }, 120_000);
  });
});

afterAll(() => {
  const rows = [...slowest.entries()].map(([label, ms]) => `  ${label}: ${Math.round(ms)} ms`);
  console.log(`cache-ml on a frozen Redis (single node and cluster), the longest each call took:\n${rows.join('\n')}`);
});
