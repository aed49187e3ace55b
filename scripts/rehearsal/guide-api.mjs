// The guide's Python API examples, as a TypeScript/JavaScript consumer writes them with the SDK
// installed from a registry: basic operations, predictions, features, model artifacts, a data frame
// read from CSV, statistics. scripts/release-rehearsal.mjs copies this file into an empty folder
// where only the published packages are installed, and runs it against a redis-server
// (REDIS_URL, CACHE_KEY_PREFIX and CACHE_BACKEND=redis come from the environment).
import assert from 'node:assert/strict';
import { createCache } from '@finrisk/cache-core';
import { createMlCache } from '@finrisk/cache-ml';
import { createFrameCache, readTableFile } from '@finrisk/cache-frames';

const cache = createCache();
try {
  // Basic Cache Operations
  await cache.set('my_key', 'my_value', { ttl: 3600 });
  assert.equal(await cache.get('my_key'), 'my_value');
  assert.equal(await cache.exists('my_key'), true);
  assert.equal(await cache.delete('my_key'), true);
  assert.equal(await cache.exists('my_key'), false);

  // Model Prediction Caching
  const ml = createMlCache(cache);
  const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
  assert.equal(await ml.cacheModelPrediction('CUST001', 'credit', prediction), true);
  const cachedPred = await ml.getCachedPrediction('CUST001', 'credit');
  assert.deepEqual(cachedPred, prediction);
  console.log(`Risk score: ${cachedPred.risk_score}`);

  // Feature Caching
  const features = { age: 35, income: 75000, credit_score: 720, employment_years: 8, debt_to_income: 0.25 };
  assert.equal(await ml.cacheFeatures('CUST001', features), true);
  const cachedFeatures = await ml.getCachedFeatures('CUST001');
  assert.deepEqual(cachedFeatures, features);
  console.log(`Customer age: ${cachedFeatures.age}`);

  // Model Artifacts Caching (a scaler's arrays, an encoder's map, metadata with a date)
  const artifacts = {
    scaler: { mean: Float64Array.from([35.2, 61000, 690]), scale: Float64Array.from([9.1, 21000, 55]) },
    encoder: new Map([['approve', 0], ['review', 1], ['decline', 2]]),
    feature_names: ['age', 'income', 'credit_score'],
    model_metadata: { version: 'v1.2.0', trained_date: new Date('2024-01-15T00:00:00Z') },
  };
  assert.equal(await ml.cacheModelArtifacts('credit_risk', 'v1.2.0', artifacts), true);
  const cachedArtifacts = await ml.getCachedModelArtifacts('credit_risk', 'v1.2.0');
  assert.deepEqual(cachedArtifacts, artifacts);
  assert.ok(cachedArtifacts.scaler.mean instanceof Float64Array);
  console.log(`Feature names: ${cachedArtifacts.feature_names.join(', ')}`);

  // DataFrame Caching
  const frames = createFrameCache(cache);
  const df = await readTableFile('data/customers.csv');
  assert.equal(await frames.cacheDataFrame('customer_data', df, { ttl: 7200 }), true);
  const cachedDf = await frames.getCachedDataFrame('customer_data');
  assert.ok(cachedDf);
  assert.deepEqual([cachedDf.numRows(), cachedDf.numCols()], [df.numRows(), df.numCols()]);
  assert.deepEqual(cachedDf.objects(), df.objects());
  console.log(`DataFrame shape: (${cachedDf.numRows()}, ${cachedDf.numCols()})`);
  console.log(`Columns: ${cachedDf.columnNames().join(', ')}`);

  // Cache Statistics
  const stats = await cache.stats();
  assert.equal(stats.status, 'healthy');
  assert.equal(stats.backend, 'redis');
  console.log(`Connected clients: ${stats.connectedClients}`);
  console.log(`Used memory: ${stats.usedMemory}`);
  console.log(`Hit rate: ${(stats.hitRate * 100).toFixed(2)}%`);
} finally {
  await cache.close();
}
console.log('guide API examples: ok');
