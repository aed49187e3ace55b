// pnpm bench (cache-core): the L1 tier. Hot reads against a hand-written fastest node-redis read,
// the cost of a hit by how L1 holds a value (frozen, decoded per hit, cloned per hit), node-redis's
// own clientSideCache, how long an invalidation takes to reach a reader (another SDK process, and
// redis-cli), how many invalidations a reader hears in BCAST mode against default-mode tracking,
// and the memory L1 takes with ten times more hot data than its cap. Ratios, not timings.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, RESP_TYPES } from '@redis/client';
import { measure, measureSync, report, startRedisServer, type Measurement, type RatioRow } from '@finrisk/test-utils';
import { decodeValueFast, encodeValueFast } from '../src/codec.js';
import { createCache, type Cache, type CacheKey } from '../src/index.js';
import { deepFreeze } from '../src/l1/deep-freeze.js';

const OPS = Number(process.env.BENCH_OPS ?? 200_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now(); // ms, comparable across processes on one machine

const server = await startRedisServer();
const url = server.url;

async function withL1(options: Parameters<typeof createCache>[0] = {}): Promise<Cache> {
  const cache = createCache({ url, backend: 'redis', envFile: false, env: {}, keyPrefix: 'l1bench', statsPublish: false, l1: { maxMb: 64 }, ...options });
  await cache.connect();
  for (let i = 0; cache.processStats().l1?.serving !== true; i++) {
    if (i > 500) throw new Error('L1 did not start serving');
    await sleep(10);
  }
  return cache;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

try {
  const m: Measurement[] = [];
  const ratios: RatioRow[] = [];
  const extra: Record<string, unknown> = {};
  const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
  const features = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`feature_${i}`, i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? `v${i}` : i]));
  const artifact = { scaler: { mean: new Float64Array(2048).map((_, i) => i / 3), scale: new Float64Array(2048).fill(1.5) }, fittedAt: new Date(0) };

  // ------------------------------------------------------------------ hot reads
  // What a user would hand-write: node-redis at its fastest (no per-command timeout), GET + JSON.parse.
  const lean = createClient({ url, commandOptions: { timeout: 0 } });
  await lean.connect();
  await lean.set('raw:prediction', JSON.stringify(prediction));
  const cache = await withL1();
  const key = cache.keys.key('prediction', 'CUST001', 'credit');
  await cache.set(key, prediction);
  await cache.get(key);
  for (const inFlight of [1, 100]) {
    const label = inFlight === 1 ? 'sequential' : `${inFlight} in flight`;
    const base = await measure(`hand-written GET + JSON.parse (${label})`, async () => JSON.parse((await lean.get('raw:prediction'))!), inFlight === 1 ? 20_000 : 100_000, inFlight);
    const ours = await measure(`cache.get, L1 hit (${label})`, () => cache.get(key), OPS, inFlight);
    m.push(base, ours);
    const target = inFlight === 1 ? 20 : 5;
    const ratio = ours.opsPerSec / base.opsPerSec;
    ratios.push({ what: `cache.get L1 hit / hand-written fastest read, ${label}`, ratio, target: `>= ${target}`, met: ratio >= target, detail: `${ours.usPerOp.toFixed(3)} vs ${base.usPerOp.toFixed(2)} µs per read` });
  }

  // ------------------------------------------------------------------ how L1 holds a value
  // Frozen and shared (what L1 does for JSON shapes) against decoding the envelope on every hit
  // (what it does for the rest) and a structuredClone per hit (what other libraries do).
  for (const [name, value] of [['prediction', prediction], ['50-feature vector', features], ['artifact (2 x 2048 Float64Array)', artifact]] as const) {
    const envelope = encodeValueFast(value) as Buffer;
    // Typed arrays cannot be frozen: the artifact row shows the cost L1 avoids by holding bytes for it.
    const frozen = name.startsWith('artifact') ? value : deepFreeze(structuredClone(value));
    const held = measureSync(`hit, frozen shared value: ${name}`, () => frozen, 1_000_000);
    const decoded = measureSync(`hit, decode per hit: ${name}`, () => decodeValueFast(envelope), name.startsWith('artifact') ? 2_000 : 100_000);
    const cloned = measureSync(`hit, structuredClone per hit: ${name}`, () => structuredClone(value), name.startsWith('artifact') ? 2_000 : 100_000);
    m.push(held, decoded, cloned);
    ratios.push({
      what: `decode per hit / frozen value, ${name}`,
      ratio: decoded.usPerOp / Math.max(held.usPerOp, 0.001),
      target: 'report',
      met: true,
      detail: `${decoded.usPerOp.toFixed(3)} µs decode, ${cloned.usPerOp.toFixed(3)} µs structuredClone, ${held.usPerOp.toFixed(4)} µs frozen${name.startsWith('artifact') ? ' (typed arrays and Dates cannot be frozen: L1 clones these per hit, the faster; it decodes per hit only what a clone would change: Buffers, registered classes)' : ''}`,
    });
  }

  // ------------------------------------------------------------------ node-redis's clientSideCache
  // The candidate we did not take: it caches typed commands only (the SDK's hot path uses
  // sendCommand), with the client's default type mapping, and structuredClones every hit.
  const csc = createClient({ url, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 }, commandOptions: { timeout: 0 } });
  await csc.connect();
  await csc.get('raw:prediction');
  const cscHit = await measure('node-redis clientSideCache hit + JSON.parse (sequential)', async () => JSON.parse((await csc.get('raw:prediction'))!), OPS, 1);
  const oursSeq = m.find((x) => x.name === 'cache.get, L1 hit (sequential)')!;
  m.push(cscHit);
  ratios.push({ what: 'cache.get L1 hit / node-redis clientSideCache hit, sequential', ratio: oursSeq.opsPerSec / cscHit.opsPerSec, target: 'report', met: true, detail: `${oursSeq.usPerOp.toFixed(3)} vs ${cscHit.usPerOp.toFixed(3)} µs per hit` });
  const bufferTyped = createClient({ url, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 }, commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } });
  await bufferTyped.connect();
  const cached = (await bufferTyped.get('raw:prediction')) as unknown;
  extra.clientSideCacheWithBufferReplies = Buffer.isBuffer(cached) ? 'Buffer' : (cached as object)?.constructor?.name ?? typeof cached;
  await bufferTyped.close();
  await csc.close();

  // ------------------------------------------------------------------ invalidation delay
  // 1,000 writes by another process: how long until this process reads the new value. The reader
  // yields to the event loop between reads (a hot loop of L1 hits would never let the socket in).
  async function invalidationDelays(kind: 'sdk' | 'redis-cli'): Promise<number[]> {
    const reader = await withL1({ keyLayout: 'finrisk-python' });
    const target: CacheKey = { kind: 'feature', key: 'features:l1bench-delay', format: 'json' };
    await lean.set(target.key, JSON.stringify({ seq: -1, t: now() }));
    await reader.get(target);
    const delays: number[] = [];
    let seen = -1;
    let done = false;
    const poll = (async () => {
      while (!done) {
        await new Promise((r) => setImmediate(r));
        const value = (await reader.get<{ seq: number; t: number }>(target))!;
        if (value && value.seq > seen) {
          if (value.seq >= 0) delays.push(now() - value.t);
          seen = value.seq;
        }
      }
    })();
    const writes = 1000;
    if (kind === 'sdk') {
      const script = fileURLToPath(new URL('./l1-writer.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, url, target.key, String(writes)], { stdio: ['ignore', 'inherit', 'inherit'] });
      await new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(null) : reject(new Error(`writer exited ${code}`)))));
    } else {
      const cli = spawn('redis-cli', ['-p', String(server.port)], { stdio: ['pipe', 'ignore', 'inherit'] });
      for (let seq = 0; seq < writes; seq++) {
        cli.stdin.write(`SET ${target.key} '${JSON.stringify({ seq, t: now() })}'\n`);
        await sleep(2);
      }
      cli.stdin.end();
      await new Promise((resolve) => cli.on('exit', resolve));
    }
    await sleep(100);
    done = true;
    await poll;
    await reader.close();
    return delays.sort((a, b) => a - b);
  }
  for (const writer of ['sdk', 'redis-cli'] as const) {
    const delays = await invalidationDelays(writer);
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    extra[`invalidationDelay_${writer}`] = { seen: delays.length, p50Ms: p50, p99Ms: p99, maxMs: delays.at(-1) };
    ratios.push({ what: `invalidation delay p99, writes by ${writer === 'sdk' ? 'another SDK process' : 'redis-cli'} (ms)`, ratio: p99, target: '< 2 ms', met: p99 < 2, detail: `p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${delays.at(-1)?.toFixed(3)} ms over ${delays.length} new values seen` });
  }

  // ------------------------------------------------------------------ BCAST against default mode
  // The price of BCAST: a reader hears about every write under its prefixes, also to keys it
  // never read; default-mode tracking (what clientSideCache uses) hears only keys it read.
  {
    const bcast = createClient({ url, RESP: 3, emitInvalidate: true });
    const dflt = createClient({ url, RESP: 3, emitInvalidate: true });
    let bcastMessages = 0;
    let defaultMessages = 0;
    bcast.on('invalidate', () => bcastMessages++);
    dflt.on('invalidate', () => defaultMessages++);
    await bcast.connect();
    await dflt.connect();
    await bcast.sendCommand(['CLIENT', 'TRACKING', 'OFF']);
    await bcast.sendCommand(['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'traffic:']);
    // The default-mode reader holds 10 of the 10,000 keys written.
    for (let i = 0; i < 10; i++) await dflt.get(`traffic:${i}`);
    for (let i = 0; i < 10_000; i++) void lean.set(`traffic:${i}`, 'x');
    await lean.ping();
    await bcast.ping();
    await dflt.ping();
    extra.trackingTraffic = { writes: 10_000, keysHeld: 10, bcastMessages, defaultModeMessages: defaultMessages };
    ratios.push({ what: 'invalidations heard per 10,000 writes, BCAST / default mode (10 keys held)', ratio: bcastMessages / Math.max(defaultMessages, 1), target: 'report', met: true, detail: `${bcastMessages} vs ${defaultMessages} messages` });
    await bcast.close();
    await dflt.close();
  }

  // ------------------------------------------------------------------ memory
  // Ten times more hot data than L1 may hold: what L1 counts stays under the cap, and so does
  // what the process's heap grows by (after a GC), against the same reads with L1 off.
  if (typeof globalThis.gc === 'function') {
    const capMb = 16;
    const value = { ...features, padding: 'x'.repeat(8 * 1024) };
    const keys = Array.from({ length: 20_000 }, (_, i) => ({ kind: 'feature', key: `l1bench:feature:MEM${i}` }) as CacheKey);
    const writer = createCache({ url, backend: 'redis', envFile: false, env: {}, keyPrefix: 'l1bench', statsPublish: false });
    for (let i = 0; i < keys.length; i += 1000) await writer.setMany(keys.slice(i, i + 1000).map((k) => ({ key: k, value })));
    const heapAfterReads = async (cache: Cache) => {
      for (let pass = 0; pass < 2; pass++) for (let i = 0; i < keys.length; i += 500) await cache.getMany(keys.slice(i, i + 500));
      globalThis.gc!();
      return process.memoryUsage().heapUsed;
    };
    globalThis.gc();
    const off = createCache({ url, backend: 'redis', envFile: false, env: {}, keyPrefix: 'l1bench', statsPublish: false });
    const heapOff = await heapAfterReads(off);
    const on = await withL1({ l1: { maxMb: capMb } });
    const heapOn = await heapAfterReads(on);
    const counted = on.processStats().l1!.bytes;
    const hotMb = (keys.length * JSON.stringify(value).length) / 1024 / 1024;
    extra.memory = { capMb, hotDataMb: hotMb, l1CountedBytes: counted, heapGrowthOverL1OffBytes: heapOn - heapOff, evictions: on.processStats().byKind.feature?.l1Evictions };
    ratios.push({ what: 'L1 bytes counted / cap, with 10x more hot data than the cap', ratio: counted / (capMb * 1024 * 1024), target: '<= 1.00', met: counted <= capMb * 1024 * 1024, detail: `${(counted / 1024 / 1024).toFixed(2)} MiB of ${capMb} MiB, ${hotMb.toFixed(0)} MiB hot` });
    ratios.push({ what: 'heap growth with L1 on / cap (after GC, against L1 off)', ratio: (heapOn - heapOff) / (capMb * 1024 * 1024), target: '<= 1.00', met: heapOn - heapOff <= capMb * 1024 * 1024, detail: `${((heapOn - heapOff) / 1024 / 1024).toFixed(2)} MiB` });
    await Promise.all([writer.close(), off.close(), on.close()]);
  } else {
    console.log('memory: skipped (run node with --expose-gc)');
  }

  report('cache-core-l1', m, ratios, extra);
  await lean.close();
  await cache.close();
} finally {
  await server.stop();
}
