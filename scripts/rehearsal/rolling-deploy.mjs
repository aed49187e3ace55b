// One side of a rolling deploy: a process on one release writes, a process on the other reads,
// through one Redis. scripts/release-rehearsal.mjs copies this file into the folder of each
// release (the old and the new one, each with only its own packages installed) and runs
//   node rolling-deploy.mjs write TAG   stores predictions, features, artifacts and a data frame under TAG
//   node rolling-deploy.mjs read TAG    reads what a process wrote under TAG, checks every value,
//                                       then invalidates the model `TAG-scored` (one SET of its generation)
//   node rolling-deploy.mjs invalidated TAG   checks that the predictions of `TAG-scored` are now misses
// The values are built from TAG alone, so the reader knows what the writer stored.
// REDIS_URL, CACHE_KEY_PREFIX and CACHE_BACKEND=redis come from the environment.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as aq from 'arquero';
import { createCache } from '@finrisk/cache-core';
import { createMlCache } from '@finrisk/cache-ml';
import { createFrameCache } from '@finrisk/cache-frames';

const [mode, tag] = process.argv.slice(2);
if (!['write', 'read', 'invalidated'].includes(mode) || !tag) throw new Error('usage: node rolling-deploy.mjs write|read|invalidated TAG');

const require = createRequire(import.meta.url);
const versions = ['core', 'ml', 'frames'].map((p) => `cache-${p}@${require(`@finrisk/cache-${p}/package.json`).version}`).join(' ');

const customers = Array.from({ length: 50 }, (_, i) => `${tag}-CUST${String(i).padStart(3, '0')}`);
const predictionOf = (id, i) => ({ risk_score: i / 50, decision: i % 3 === 0 ? 'review' : 'approve', confidence: 0.9, customer: id, tags: ['a', 'ß', '€'] });
const featuresOf = (i) => ({ age: 20 + i, income: 40000 + i * 1000, credit_score: 600 + i, employment_years: i % 10, debt_to_income: i / 100, flags: { pep: i % 7 === 0 } });
const artifacts = {
  weights: Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i)),
  encoder: new Map([['approve', 0], ['review', 1]]),
  classes: new Set(['approve', 'review']),
  trained: new Date('2024-01-15T00:00:00Z'),
  big: 12345678901234567890n,
  feature_names: ['age', 'income', 'credit_score'],
};
// Enough rows, with a small chunkBytes, for several chunks per column; dates, nulls, text, numbers.
const rows = 20_000;
const table = () =>
  aq.table({
    id: Array.from({ length: rows }, (_, i) => `${tag}-${i}`),
    score: Float64Array.from({ length: rows }, (_, i) => (i * 7) % 1000),
    opened: Array.from({ length: rows }, (_, i) => (i % 11 === 0 ? null : new Date(Date.UTC(2020, 0, 1 + (i % 365))))),
    segment: Array.from({ length: rows }, (_, i) => ['retail', 'sme', 'corporate', null][i % 4]),
  });

const cache = createCache();
const ml = createMlCache(cache);
const frames = createFrameCache(cache, { chunkBytes: 64 * 1024 });
try {
  if (mode === 'write') {
    for (const [i, id] of customers.entries()) {
      assert.equal(await ml.cacheModelPrediction(id, 'credit', predictionOf(id, i)), true);
      assert.equal(await ml.cacheFeatures(id, featuresOf(i)), true);
      assert.equal(await ml.cacheModelPrediction(id, `${tag}-scored`, predictionOf(id, i)), true);
    }
    assert.equal(await ml.cacheModelArtifacts(`${tag}-model`, 'v1', artifacts), true);
    assert.equal(await frames.cacheDataFrame(`${tag}-frame`, table()), true);
    console.log(`${versions}: wrote ${customers.length} predictions and features, artifacts and a ${rows}-row frame under ${tag}`);
  } else if (mode === 'read') {
    const predictions = await ml.getCachedPredictions(customers, 'credit');
    assert.deepEqual(predictions, customers.map((id, i) => predictionOf(id, i)));
    for (const [i, id] of customers.entries()) assert.deepEqual(await ml.getCachedFeatures(id), featuresOf(i));
    assert.deepEqual(await ml.getCachedModelArtifacts(`${tag}-model`, 'v1'), artifacts);
    const frame = await frames.getCachedDataFrame(`${tag}-frame`);
    assert.ok(frame, `no frame ${tag}-frame`);
    assert.deepEqual(frame.objects(), table().objects());
    const info = await frames.getDataFrameInfo(`${tag}-frame`);
    assert.ok(info && info.chunks > 1, `the frame should span several chunks (${JSON.stringify(info?.chunks)})`);
    assert.deepEqual(await ml.getCachedPredictions(customers, `${tag}-scored`), customers.map((id, i) => predictionOf(id, i)));
    assert.equal(await ml.invalidateModelPredictions(`${tag}-scored`), true);
    console.log(`${versions}: read back every prediction, feature vector, the artifacts and the ${rows}-row frame (${info.chunks} chunks) written under ${tag}, and invalidated ${tag}-scored`);
  } else {
    assert.deepEqual(await ml.getCachedPredictions(customers, `${tag}-scored`), customers.map(() => null));
    assert.deepEqual(await ml.getCachedPredictions(customers, 'credit'), customers.map((id, i) => predictionOf(id, i)));
    console.log(`${versions}: the predictions of ${tag}-scored are misses after the other release invalidated the model; the others are still there`);
  }
} finally {
  await cache.close();
}
