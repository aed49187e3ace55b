// pnpm bench (cache-core): cache.get/set against what a user would hand-write with node-redis at
// its fastest plus JSON, sequential and with 100 calls in flight; the codec against plain JSON;
// the batch path against redis-benchmark; bytes per prediction in Redis. Ratios, not timings.
import { measure, measureSync, report, startRedisServer, type Measurement, type RatioRow } from '@finrisk/test-utils';
import { execFileSync } from 'node:child_process';
import { createClient, RESP_TYPES } from '@redis/client';
import { SuperJSON } from 'superjson';
import { decodeValueFast, encodeValueFast, serializeValue } from '../src/codec.js';
import { createCache, encodeValue } from '../src/index.js';

const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const server = await startRedisServer();
try {
  const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
  const features = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`feature_${i}`, i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? `v${i}` : i]));
  const payload = await encodeValue(prediction);

  // The baseline (issue #14's decision): what a user would hand-write, node-redis at its fastest
  // configuration (no per-command timeout, string replies) plus JSON.stringify / JSON.parse of the
  // same object. Targets: cache.get/set at least 0.90 of it sequentially and 0.85 with 100 in flight.
  const hand = createClient({ url: server.url, commandOptions: { timeout: 0 } });
  await hand.connect();
  // For information: node-redis as users get it by default (its 5 s command timeout included),
  // and the same fastest client sending bytes someone else encoded (no JSON at all).
  const raw = createClient({ url: server.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await raw.connect();
  const lean = createClient({ url: server.url, commandOptions: { timeout: 0, typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } });
  await lean.connect();
  const cache = createCache({ url: server.url, backend: 'redis', envFile: false, env: {}, statsPublish: false });
  await cache.connect();
  const rawKey = (i: number) => `raw:${i % 1000}`;
  const jsonKey = (i: number) => `json:${i % 1000}`;
  // "The same SET": cache.set writes with the kind's default TTL (SET key value PX ms), so the
  // baselines do too.
  const ttlMs = cache.ttlMs('kv', undefined)!;
  const px = { expiration: { type: 'PX' as const, value: ttlMs } };
  await raw.set(rawKey(0), payload);
  for (let i = 0; i < 1000; i++) await hand.set(jsonKey(i), JSON.stringify(prediction), px);
  await cache.set('p0', prediction);

  const m: Measurement[] = [];
  for (const inFlight of [1, 100]) {
    const label = inFlight === 1 ? 'sequential' : `${inFlight} in flight`;
    m.push(await measure(`hand-written SET + JSON.stringify (${label})`, (i) => hand.set(jsonKey(i), JSON.stringify(prediction), px), OPS, inFlight));
    m.push(await measure(`cache.set (${label})`, (i) => cache.set(`p${i % 1000}`, prediction), OPS, inFlight));
    m.push(await measure(`hand-written GET + JSON.parse (${label})`, async (i) => JSON.parse((await hand.get(jsonKey(i)))!), OPS, inFlight));
    m.push(await measure(`cache.get (${label})`, (i) => cache.get(`p${i % 1000}`), OPS, inFlight));
    m.push(await measure(`raw SET, default client, pre-encoded (${label})`, (i) => raw.set(rawKey(i), payload, px), OPS, inFlight));
    m.push(await measure(`raw GET, default client, pre-encoded (${label})`, (i) => raw.get(rawKey(i)), OPS, inFlight));
    m.push(await measure(`raw SET, fastest client, pre-encoded (${label})`, (i) => lean.set(rawKey(i), payload, px), OPS, inFlight));
    m.push(await measure(`raw GET, fastest client, pre-encoded (${label})`, (i) => lean.get(rawKey(i)), OPS, inFlight));
  }
  const find = (name: string) => m.find((x) => x.name === name)!;
  const ratios: RatioRow[] = [];
  for (const label of ['sequential', '100 in flight']) {
    const target = label === 'sequential' ? 0.9 : 0.85;
    for (const [op, base] of [['set', 'SET + JSON.stringify'], ['get', 'GET + JSON.parse']] as const) {
      const ours = find(`cache.${op} (${label})`);
      const hand = find(`hand-written ${base} (${label})`);
      const ratio = ours.opsPerSec / hand.opsPerSec;
      ratios.push({ what: `cache.${op} / hand-written ${base}, ${label}`, ratio, target: `>= ${target.toFixed(2)}`, met: ratio >= target, detail: `${ours.usPerOp.toFixed(2)} vs ${hand.usPerOp.toFixed(2)} µs per call` });
      for (const client of ['default', 'fastest'] as const) {
        const rawBase = find(`raw ${op.toUpperCase()}, ${client} client, pre-encoded (${label})`);
        ratios.push({ what: `cache.${op} / raw ${op.toUpperCase()} of pre-encoded bytes, ${client} client, ${label}`, ratio: ours.opsPerSec / rawBase.opsPerSec, target: 'report', met: true, detail: `${ours.usPerOp.toFixed(2)} vs ${rawBase.usPerOp.toFixed(2)} µs per call` });
      }
    }
  }

  // Codec (issue #14's decision): for JSON-safe values, encode + decode within 1.15x of plain
  // JSON.stringify + JSON.parse of the same value. No binary codec.
  const sj = new SuperJSON();
  const codec: Measurement[] = [];
  for (const [name, value] of [['prediction', prediction], ['50 features', features]] as const) {
    const n = name === 'prediction' ? 200_000 : 50_000;
    const plain = measureSync(`JSON stringify+parse, ${name}`, () => JSON.parse(JSON.stringify(value)), n);
    const ours = measureSync(`envelope encode+decode, ${name}`, () => decodeValueFast(encodeValueFast(value) as Buffer), n);
    codec.push(plain, ours, measureSync(`superjson round trip, ${name}`, () => sj.parse(sj.stringify(value)), n / 4));
    ratios.push({ what: `envelope encode+decode / JSON stringify+parse, ${name}`, ratio: ours.usPerOp / plain.usPerOp, target: '<= 1.15', met: ours.usPerOp / plain.usPerOp <= 1.15, detail: `${ours.usPerOp.toFixed(2)} vs ${plain.usPerOp.toFixed(2)} µs` });
  }
  codec.push(measureSync('envelope serialize, prediction', () => serializeValue(prediction), 200_000));

  // Batch path against redis-benchmark pipelining 16 GETs, at the same moment on the same server.
  const batchKeys = Array.from({ length: 10_000 }, (_, i) => `b${i}`);
  const batchErrors: string[] = [];
  const stopListening = cache.on('error', (e) => batchErrors.push(`${e.operation}: ${e.error.code} ${e.error.message}`));
  if (!(await cache.setMany(batchKeys.map((key, i) => ({ key, value: { ...prediction, i } }))))) throw new Error(`the batch was not written: ${batchErrors.join('; ') || 'no error event'}`);
  stopListening();
  const batch = await measure('cache.getMany of 10,000 keys', () => cache.getMany(batchKeys), 20, 1);
  const keysPerSec = 10_000 / (batch.usPerOp / 1e6);
  const benchOut = execFileSync('redis-benchmark', ['-p', String(server.port), '-t', 'get', '-n', '200000', '-P', '16', '-q', '--csv'], { encoding: 'utf8' });
  const redisBenchRps = Number(/"GET","([\d.]+)"/.exec(benchOut)?.[1] ?? 0);
  ratios.push({
    what: 'cache.getMany keys/s / redis-benchmark -P 16 GET req/s',
    ratio: keysPerSec / redisBenchRps,
    target: 'report',
    met: true,
    detail: `${keysPerSec.toFixed(0)} keys/s vs ${redisBenchRps.toFixed(0)} req/s (redis-benchmark, C client)`,
  });

  // Bytes in Redis per cached prediction against a plain JSON string under a short key.
  await raw.set('p:1', JSON.stringify(prediction));
  // The SDK's descriptive key layout (its key names every prediction) is kept: what it costs is in BENCHMARKS.md.
  const plainBytes = Number(await raw.sendCommand(['MEMORY', 'USAGE', 'p:1']));
  await cache.set(cache.keys.key('prediction', 'CUST001', 'credit'), prediction);
  const oursBytes = Number(await raw.sendCommand(['MEMORY', 'USAGE', cache.keys.key('prediction', 'CUST001', 'credit').key]));
  ratios.push({
    what: 'MEMORY USAGE of a prediction / plain JSON under a short key',
    ratio: oursBytes / plainBytes,
    target: 'report',
    met: true,
    detail: `${oursBytes} vs ${plainBytes} bytes (key finrisk:prediction:CUST001:credit vs p:1)`,
  });
  // The same comparison under the same key isolates what the envelope itself costs (issue #14's
  // decision: keep the descriptive key layout; at most 1.05x plain JSON under a same-length key).
  const sameKey = cache.keys.key('prediction', 'CUST002', 'credit').key;
  await raw.set(sameKey, JSON.stringify(prediction));
  const sameKeyBytes = Number(await raw.sendCommand(['MEMORY', 'USAGE', sameKey]));
  ratios.push({
    what: 'MEMORY USAGE of a prediction / plain JSON under the same-length key',
    ratio: oursBytes / sameKeyBytes,
    target: '<= 1.05',
    met: oursBytes / sameKeyBytes <= 1.05,
    detail: `${oursBytes} vs ${sameKeyBytes} bytes: the envelope header is 6 bytes`,
  });

  report('cache-core', [...m, ...codec, batch], ratios, { ops: OPS, redis: server.cli('INFO', 'server').match(/redis_version:(\S+)/)?.[1] });
  await raw.close();
  await lean.close();
  await hand.close();
  await cache.close();
} finally {
  await server.stop();
}
