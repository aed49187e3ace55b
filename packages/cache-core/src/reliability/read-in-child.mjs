// Reads one stored value in a process of its own, so that a test can measure the memory that
// reading it takes (run it with `--import ./report-max-rss.mjs`, which prints the peak).
//
//   node --import ./report-max-rss.mjs read-in-child.mjs READ_PATH REDIS_URL KEY_PREFIX
//
// READ_PATH: `get` (cache.get of the generic key "bomb"), `prediction` (cache-ml's
// getCachedPrediction("CUST001", "credit")) or `artifacts` (getCachedModelArtifacts("m", "v1")).
// It imports the built packages (dist/), like a user's program. It prints one JSON line:
// { value, errors: [{ code, message }], threw }, where value is null for a miss and otherwise only
// described (a 1 GiB value cannot be printed).
const [readPath, url, keyPrefix] = process.argv.slice(2);
const core = await import(new URL('../../dist/index.js', import.meta.url).href);
const cache = core.createCache({ url, backend: 'redis', keyPrefix, envFile: false, env: {}, commandTimeoutMs: 30_000 });
const errors = [];
cache.on('error', (e) => errors.push({ code: e.error.code, message: e.error.message }));

let value;
let threw = null;
try {
  if (readPath === 'get') value = await cache.get('bomb');
  else {
    const ml = (await import(new URL('../../../cache-ml/dist/index.js', import.meta.url).href)).createMlCache(cache);
    value = readPath === 'prediction' ? await ml.getCachedPrediction('CUST001', 'credit') : await ml.getCachedModelArtifacts('m', 'v1');
  }
} catch (error) {
  threw = String(error);
}
await cache.close();
const described = value === null || value === undefined ? null : { type: value?.constructor?.name ?? typeof value, bytes: value?.byteLength ?? null };
process.stdout.write(`${JSON.stringify({ value: described, errors, threw })}\n`);
