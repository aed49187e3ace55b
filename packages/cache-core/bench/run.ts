// pnpm bench (cache-core): wrapper cost against the raw node-redis client on the same server,
// sequential and with 100 calls in flight, and the cost of the codec. Ratios, not timings.
import { measure, measureSync, report, startRedisServer, type Measurement, type RatioRow } from '@finrisk/test-utils';
import { execFileSync } from 'node:child_process';
import { createClient, RESP_TYPES } from '@redis/client';
import { SuperJSON } from 'superjson';
import { decodeValueFast, encodeValueFast } from '../src/codec.js';
import { createCache, encodeValue, serializeValue } from '../src/index.js';

const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const server = await startRedisServer();
try {
  const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
  const features = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`feature_${i}`, i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? `v${i}` : i]));
  const payload = await encodeValue(prediction);

  // The baseline is node-redis as users get it by default (its 5 s command timeout included).
  const raw = createClient({ url: server.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await raw.connect();
  // And the fastest raw configuration measured: no per-command timeout (the SDK keeps its own
  // deadline) and Buffer replies set at creation. (The same options through withTypeMapping /
  // withCommandOptions cost about 2x the client CPU per typed command, measured: node-redis's
  // proxied command methods are slow, its sendCommand is not.)
  const lean = createClient({ url: server.url, commandOptions: { timeout: 0, typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } });
  await lean.connect();
  const cache = createCache({ url: server.url, backend: 'redis', envFile: false, env: {} });
  await cache.connect();
  const rawKey = (i: number) => `raw:${i % 1000}`;
  // "The same SET": cache.set writes with the kind's default TTL (SET key value PX ms), so the
  // raw baselines do too; a SET without PX is measured for reference.
  const ttlMs = cache.ttlMs('kv', undefined)!;
  const px = { expiration: { type: 'PX' as const, value: ttlMs } };
  await raw.set(rawKey(0), payload);
  await cache.set('p0', prediction);

  const m: Measurement[] = [];
  for (const inFlight of [1, 100]) {
    const label = inFlight === 1 ? 'sequential' : `${inFlight} in flight`;
    m.push(await measure(`raw SET (${label})`, (i) => raw.set(rawKey(i), payload, px), OPS, inFlight));
    m.push(await measure(`cache.set (${label})`, (i) => cache.set(`p${i % 1000}`, prediction), OPS, inFlight));
    m.push(await measure(`raw GET (${label})`, (i) => raw.get(rawKey(i)), OPS, inFlight));
    m.push(await measure(`raw GET, no timeout (${label})`, (i) => lean.get(rawKey(i)), OPS, inFlight));
    m.push(await measure(`raw SET, no timeout (${label})`, (i) => lean.set(rawKey(i), payload, px), OPS, inFlight));
    // For reference: node-redis's untyped entry, which the SDK itself uses for GET/SET/MGET.
    m.push(await measure(`raw sendCommand GET (${label})`, (i) => lean.sendCommand(['GET', rawKey(i)]), OPS, inFlight));
    m.push(await measure(`raw sendCommand SET PX (${label})`, (i) => lean.sendCommand(['SET', rawKey(i), payload, 'PX', String(ttlMs)]), OPS, inFlight));
    m.push(await measure(`raw SET without PX, no timeout (${label})`, (i) => lean.set(rawKey(i), payload), OPS, inFlight));
    m.push(await measure(`cache.get (${label})`, (i) => cache.get(`p${i % 1000}`), OPS, inFlight));
  }
  const find = (name: string) => m.find((x) => x.name === name)!;
  const ratios: RatioRow[] = [];
  for (const label of ['sequential', '100 in flight']) {
    for (const op of ['set', 'get']) {
      const ours = find(`cache.${op} (${label})`);
      const base = find(`raw ${op.toUpperCase()} (${label})`);
      const ratio = ours.opsPerSec / base.opsPerSec;
      ratios.push({ what: `cache.${op} / raw ${op.toUpperCase()}, ${label}`, ratio, target: '>= 0.90', met: ratio >= 0.9, detail: `${ours.opsPerSec.toFixed(0)} vs ${base.opsPerSec.toFixed(0)} ops/s` });
      const leanBase = find(`raw ${op.toUpperCase()}, no timeout (${label})`);
      const leanRatio = ours.opsPerSec / leanBase.opsPerSec;
      ratios.push({ what: `cache.${op} / fastest raw ${op.toUpperCase()} (timeout off, Buffer replies at creation), ${label}`, ratio: leanRatio, target: '>= 0.90', met: leanRatio >= 0.9, detail: `${ours.opsPerSec.toFixed(0)} vs ${leanBase.opsPerSec.toFixed(0)} ops/s` });
    }
  }

  // Codec: encode + decode of the SDK's envelope against plain JSON and superjson, in µs.
  const sj = new SuperJSON();
  const codec = [
    measureSync('JSON stringify+parse, prediction', () => JSON.parse(JSON.stringify(prediction)), 100_000),
    measureSync('envelope serialize, prediction', () => serializeValue(prediction), 100_000),
    measureSync('JSON stringify+parse, 50 features', () => JSON.parse(JSON.stringify(features)), 50_000),
    measureSync('superjson round trip, 50 features', () => sj.parse(sj.stringify(features)), 20_000),
    measureSync('envelope serialize, 50 features', () => serializeValue(features), 50_000),
  ];
  const fullCodec = [
    // The functions the cache calls on its hot path (no promise for values encoded on the thread).
    measureSync('envelope encode+decode, prediction', () => decodeValueFast(encodeValueFast(prediction) as Buffer), 100_000),
    measureSync('envelope encode+decode, 50 features', () => decodeValueFast(encodeValueFast(features) as Buffer), 20_000),
  ];
  const seqGet = find('raw GET (sequential)').usPerOp;
  for (const base of ['raw GET', 'raw GET, no timeout']) {
    const flightGet = find(`${base} (100 in flight)`).usPerOp;
    for (const c of fullCodec) {
      ratios.push({
        what: `${c.name} / ${base} round trip (100 in flight)`,
        ratio: c.usPerOp / flightGet,
        target: '< 0.10',
        met: c.usPerOp / flightGet < 0.1,
        detail: `${c.usPerOp.toFixed(2)} µs codec vs ${flightGet.toFixed(2)} µs per GET in flight (${seqGet.toFixed(2)} µs sequential, default client)`,
      });
    }
  }
  // Batch path against redis-benchmark pipelining 16 GETs, at the same moment on the same server.
  const batchKeys = Array.from({ length: 10_000 }, (_, i) => `b${i}`);
  await cache.setMany(batchKeys.map((key, i) => ({ key, value: { ...prediction, i } })));
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
  const plainBytes = Number(await raw.sendCommand(['MEMORY', 'USAGE', 'p:1']));
  await cache.set(cache.keys.key('prediction', 'CUST001', 'credit'), prediction);
  const oursBytes = Number(await raw.sendCommand(['MEMORY', 'USAGE', cache.keys.key('prediction', 'CUST001', 'credit').key]));
  ratios.push({
    what: 'MEMORY USAGE of a prediction / plain JSON under a short key',
    ratio: oursBytes / plainBytes,
    target: '<= 1.20',
    met: oursBytes / plainBytes <= 1.2,
    detail: `${oursBytes} vs ${plainBytes} bytes (key finrisk:prediction:CUST001:credit vs p:1)`,
  });
  // The same comparison under the same key isolates what the envelope itself costs.
  const sameKey = cache.keys.key('prediction', 'CUST002', 'credit').key;
  await raw.set(sameKey, JSON.stringify(prediction));
  const sameKeyBytes = Number(await raw.sendCommand(['MEMORY', 'USAGE', sameKey]));
  ratios.push({
    what: 'MEMORY USAGE of a prediction / plain JSON under the same-length key',
    ratio: oursBytes / sameKeyBytes,
    target: 'report',
    met: true,
    detail: `${oursBytes} vs ${sameKeyBytes} bytes: the envelope header is 6 bytes`,
  });

  report('cache-core', [...m, ...codec, ...fullCodec, batch], ratios, { ops: OPS, redis: server.cli('INFO', 'server').match(/redis_version:(\S+)/)?.[1] });
  await raw.close();
  await lean.close();
  await cache.close();
} finally {
  await server.stop();
}
