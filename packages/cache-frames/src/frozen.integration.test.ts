// The data frame API against a Redis that accepts connections and never answers (redis-server
// stopped with SIGSTOP; every node of a cluster): listDataFrames and deleteDataFrame (SCAN and
// UNLINK loops, which had no deadline of their own) and the single reads and writes end within
// their deadline plus slack, with a miss / false / [] or a clear error in strict mode, and the
// same cache works again after the thaw.
import { createCache, FinRiskCacheError, type Cache } from '@finrisk/cache-core';
import { topologies, uniquePrefix, type RedisDeployment, type RedisServer } from '@finrisk/test-utils';
import * as aq from 'arquero';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFrameCache, type FrameCache } from './frame-cache.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEADLINES = { commandTimeoutMs: 200, scanTimeoutMs: 400, closeTimeoutMs: 400, connectTimeoutMs: 500, breakerThreshold: 1_000_000 } as const;
/** Two scan steps (a delete is a DEL, then a prefix delete) plus slack for a loaded machine: what this catches is a hang. */
const BOUND_MS = DEADLINES.commandTimeoutMs + DEADLINES.scanTimeoutMs + 5000;
const CONNECTION_CODES = ['E_TIMEOUT', 'E_REDIS_UNAVAILABLE'];

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

const table = () => aq.table({ id: [1, 2, 3], name: ['a', 'b', 'c'] });

/** The calls, with what a lenient cache answers while Redis does not. */
const CALLS: { name: string; run: (frames: FrameCache) => Promise<unknown>; answer: unknown }[] = [
  { name: 'listDataFrames', run: (f) => f.listDataFrames(), answer: [] },
  { name: 'deleteDataFrame', run: (f) => f.deleteDataFrame('customers'), answer: false },
  { name: 'getCachedDataFrame', run: (f) => f.getCachedDataFrame('customers'), answer: null },
  { name: 'getDataFrameInfo', run: (f) => f.getDataFrameInfo('customers'), answer: null },
  { name: 'cacheDataFrame', run: (f) => f.cacheDataFrame('other', table()), answer: false },
];

describe.each(topologies)('data frames on a frozen Redis ($name)', (topology) => {
  let deployment: RedisDeployment;
  let nodes: RedisServer[];
  const caches: Cache[] = [];

  beforeAll(async () => {
    deployment = await topology.start();
    // Listed before the freeze: asking a frozen cluster who its masters are would hang redis-cli.
    nodes = deployment.cluster?.nodes ?? deployment.masters();
  });
  afterAll(async () => {
    nodes?.forEach((n) => n.signal('SIGCONT'));
    await Promise.all(caches.map((c) => c.close()));
    await deployment?.stop();
  });

  it.each(['lenient', 'strict'] as const)('%s: every call ends in bounded time, and works again after the thaw', async (mode) => {
    const cache = createCache({ ...deployment.connection, backend: 'redis', keyPrefix: uniquePrefix('frozen-frames'), envFile: false, env: {}, ...DEADLINES, strict: mode === 'strict' });
    caches.push(cache);
    const frames = createFrameCache(cache);
    expect(await frames.cacheDataFrame('customers', table())).toBe(true);
    nodes.forEach((n) => n.signal('SIGSTOP'));
    try {
      for (const call of CALLS) {
        const outcome = await bounded(`${call.name} (${mode})`, () => call.run(frames));
        if (mode === 'strict') {
          expect(FinRiskCacheError.isInstance(outcome.error), `${call.name} answered ${JSON.stringify(outcome.value)}`).toBe(true);
          expect((outcome.error as FinRiskCacheError).code, call.name).toBeOneOf(CONNECTION_CODES);
        } else {
          expect(outcome.error, `${call.name} threw ${String(outcome.error)}`).toBeUndefined();
          expect(outcome.value, call.name).toEqual(call.answer);
        }
      }
    } finally {
      nodes.forEach((n) => n.signal('SIGCONT'));
      await deployment.cluster?.waitHealthy();
    }
    let written = false;
    for (const deadline = Date.now() + 30_000; !written && Date.now() < deadline; ) {
      written = await frames.cacheDataFrame('after', table()).catch(() => false);
      if (!written) await sleep(100);
    }
    expect(written).toBe(true);
    expect(await frames.listDataFrames()).toContain('after');
    expect(await frames.deleteDataFrame('after')).toBe(true);
    expect(await frames.listDataFrames()).not.toContain('after');
  }, 120_000);
});

afterAll(() => {
  const rows = [...slowest.entries()].map(([label, ms]) => `  ${label}: ${Math.round(ms)} ms`);
  console.log(`cache-frames on a frozen Redis (single node and cluster), the longest each call took:\n${rows.join('\n')}`);
});
