/**
 * Bench of @finrisk/cache-frames against the alternatives, in one process, on one throwaway
 * redis-server: `pnpm --filter @finrisk/cache-frames bench` (FRAMES_BENCH_ROWS to change the
 * 1,000,000 rows). Prints a table and writes bench-results/cache-frames.json at the repo root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCache } from '@finrisk/cache-core';
import { startRedisServer } from '@finrisk/test-utils';
import * as aq from 'arquero';
import { createFrameCache, type FrameCacheOptions } from '../src/index.js';
import { benchTableTypes as types, makeBenchTable } from './bench-table.js';

const rows = Number(process.env.FRAMES_BENCH_ROWS ?? 1_000_000);
const reps = Number(process.env.FRAMES_BENCH_REPS ?? 3);
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Result { name: string; writeMs: number; readMs: number; totalMs: number; bytes: number; note?: string }
const results: Result[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, runs: number, once: () => Promise<{ writeMs: number; readMs: number; bytes: number }>, note?: string): Promise<Result> {
  const samples: { writeMs: number; readMs: number; bytes: number }[] = [];
  for (let i = 0; i < runs; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    samples.push(await once());
  }
  const writeMs = median(samples.map((s) => s.writeMs));
  const readMs = median(samples.map((s) => s.readMs));
  const result = { name, writeMs, readMs, totalMs: median(samples.map((s) => s.writeMs + s.readMs)), bytes: samples[0]!.bytes, ...(note ? { note } : {}) };
  results.push(result);
  process.stderr.write(`  ${name}: ${Math.round(result.totalMs)} ms\n`);
  return result;
}

const time = async <T>(fn: () => Promise<T> | T): Promise<[T, number]> => {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
};

/**
 * Issue 14: a hot read through the L1 tier against a cold read of the same table from Redis,
 * both with default frame settings. Issue 22: a hot read decodes a private copy of the held
 * bytes (so that no caller can change what the next one reads); `sharedMs` is the hot path it
 * replaced, a select over one decoded table that every reader shared, measured in this process
 * over the same table for the ratio.
 */
async function measureL1(table: aq.ColumnTable): Promise<{ coldMs: number; hotMs: number; sharedMs: number }> {
  const options = { url: server.url, backend: 'redis', keyPrefix: 'bench-l1', commandTimeoutMs: 120_000, maxValueBytes: 512 * 1024 ** 2, envFile: false } as const;
  const l1Cache = createCache({ ...options, l1: { maxMb: 2048 } } as Parameters<typeof createCache>[0]);
  const coldCache = createCache(options);
  try {
    await l1Cache.connect();
    for (let i = 0; l1Cache.processStats().l1?.serving !== true; i++) {
      if (i > 1000) throw new Error('L1 did not start serving');
      await new Promise((r) => setTimeout(r, 10));
    }
    const l1Frames = createFrameCache(l1Cache);
    const coldFrames = createFrameCache(coldCache);
    if (!(await l1Frames.cacheDataFrame('hot', table))) throw new Error('cacheDataFrame failed');
    const colds: number[] = [];
    for (let i = 0; i < reps; i++) colds.push((await time(() => coldFrames.getCachedDataFrame('hot')))[1]);
    await l1Frames.getCachedDataFrame('hot'); // fills L1
    const hots: number[] = [];
    const shareds: number[] = [];
    const shared = (await coldFrames.getCachedDataFrame('hot'))!;
    const names = shared.columnNames();
    for (let i = 0; i < 50; i++) {
      const [back, ms] = await time(() => l1Frames.getCachedDataFrame('hot'));
      if (back?.numRows() !== rows) throw new Error('hot read returned the wrong table');
      hots.push(ms);
      shareds.push((await time(() => shared.select(names)))[1]);
    }
    const hot = { coldMs: median(colds), hotMs: median(hots), sharedMs: median(shareds) };
    process.stderr.write(`  hot read (L1): ${hot.hotMs.toFixed(3)} ms (the shared table before issue 22: ${hot.sharedMs.toFixed(3)} ms), cold read: ${Math.round(hot.coldMs)} ms\n`);
    return hot;
  } finally {
    await l1Cache.close();
    await coldCache.close();
  }
}

const server = await startRedisServer({ args: ['--proto-max-bulk-len', '1gb'] });
const cache = createCache({ url: server.url, backend: 'redis', commandTimeoutMs: 120_000, maxValueBytes: 512 * 1024 ** 2, envFile: false });
try {
  const client = (await cache.getRedisClient())!;
  const bytesClient = client.withTypeMapping({ 36: Buffer } as never) as unknown as typeof client;
  process.stderr.write(`building a ${rows}-row table...\n`);
  const table = makeBenchTable(rows);
  if (process.env.FRAMES_BENCH_ONLY === 'l1') {
    const hot = await measureL1(table);
    console.log(`hot getCachedDataFrame through L1: ${hot.hotMs.toFixed(3)} ms; shared table (before issue 22): ${hot.sharedMs.toFixed(3)} ms; cold read: ${Math.round(hot.coldMs)} ms; ` +
      `hot / shared ${(hot.hotMs / hot.sharedMs).toFixed(0)}x, cold / hot ${(hot.coldMs / hot.hotMs).toFixed(1)}x`);
    process.exitCode = 0;
  } else {
    const frames = (options: FrameCacheOptions) => async () => {
      const fc = createFrameCache(cache, options);
      const [ok, writeMs] = await time(() => fc.cacheDataFrame('bench', table));
      if (!ok) throw new Error('cacheDataFrame failed');
      const [back, readMs] = await time(() => fc.getCachedDataFrame('bench'));
      if (back?.numRows() !== rows) throw new Error('read back the wrong table');
      return { writeMs, readMs, bytes: (await fc.getDataFrameInfo('bench'))!.bytes };
    };
    const ours = await measure('cache-frames (defaults: 4 MiB chunks, no compression)', reps, frames({}));
    for (const [label, options] of [
      ['cache-frames, 1 MiB chunks', { chunkBytes: 1 << 20 }],
      ['cache-frames, 16 MiB chunks', { chunkBytes: 16 << 20 }],
      ['cache-frames, deflate', { compression: 'deflate' }],
    ] as const) await measure(label, 2, frames(options));

    const arqueroDefault = await measure('arquero toArrowIPC + fromArrow, inferred types (no Redis)', 2, async () => {
      const [bytes, writeMs] = await time(() => aq.toArrowIPC(table));
      const [, readMs] = await time(() => aq.fromArrow(bytes));
      return { writeMs, readMs, bytes: bytes.byteLength };
    });
    const arqueroTyped = await measure('arquero toArrowIPC + fromArrow, explicit types (no Redis)', 2, async () => {
      const [bytes, writeMs] = await time(() => aq.toArrowIPC(table, { types }));
      const [, readMs] = await time(() => aq.fromArrow(bytes));
      return { writeMs, readMs, bytes: bytes.byteLength };
    });
    const ipc = aq.toArrowIPC(table, { types });
    const raw = await measure('raw SET/GET of the IPC bytes (one key)', reps, async () => {
      const [, writeMs] = await time(() => client.set('bench:raw', Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength)));
      const [value, readMs] = await time(() => bytesClient.get('bench:raw'));
      if ((value as unknown as Buffer).byteLength !== ipc.byteLength) throw new Error('raw GET size');
      return { writeMs, readMs, bytes: ipc.byteLength };
    });
    await client.del('bench:raw');
    const json = await measure('JSON of records through Redis', 2, async () => {
      const [text, encodeMs] = await time(() => JSON.stringify(table.objects()));
      const [, setMs] = await time(() => client.set('bench:json', text));
      const [back, getMs] = await time(() => client.get('bench:json'));
      const [, decodeMs] = await time(() => aq.from(JSON.parse(back as string) as object[]));
      return { writeMs: encodeMs + setMs, readMs: getMs + decodeMs, bytes: Buffer.byteLength(text) };
    });
    await client.del('bench:json');
    const csv = await measure("CSV through Redis (arquero's toCSV / fromCSV)", 2, async () => {
      const [text, encodeMs] = await time(() => aq.toCSV(table));
      const [, setMs] = await time(() => client.set('bench:csv', text));
      const [back, getMs] = await time(() => client.get('bench:csv'));
      const [, decodeMs] = await time(() => aq.fromCSV(back as string));
      return { writeMs: encodeMs + setMs, readMs: getMs + decodeMs, bytes: Buffer.byteLength(text) };
    });
    await client.del('bench:csv');

    const hot = await measureL1(table);

    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const summary = {
      rows,
      columns: table.numCols(),
      speedupVsJson: ratio(json.totalMs, ours.totalMs),
      speedupVsCsv: ratio(csv.totalMs, ours.totalMs),
      vsArqueroInferred: ratio(ours.totalMs, arqueroDefault.totalMs),
      vsArqueroTyped: ratio(ours.totalMs, arqueroTyped.totalMs),
      vsRawSetGet: ratio(ours.totalMs, raw.totalMs),
      hotReadMs: hot.hotMs,
      sharedHotReadMs: hot.sharedMs,
      coldReadMs: hot.coldMs,
      hotVsCold: Math.round(hot.coldMs / hot.hotMs),
      targets: { speedupVsJson: '>= 5', vsArquero: '<= 1.2', hotVsCold: '>= 100' },
    };
    const pad = (s: string, n: number) => s.padEnd(n);
    console.log(`\n${rows.toLocaleString('en-US')} rows x ${table.numCols()} columns, node ${process.version}, redis on loopback\n`);
    console.log(`${pad('path', 62)} ${'write ms'.padStart(9)} ${'read ms'.padStart(9)} ${'total ms'.padStart(9)} ${'MB'.padStart(7)} ${'x ours'.padStart(7)}`);
    for (const r of results) {
      console.log(`${pad(r.name, 62)} ${String(Math.round(r.writeMs)).padStart(9)} ${String(Math.round(r.readMs)).padStart(9)} ${String(Math.round(r.totalMs)).padStart(9)} ${(r.bytes / 1e6).toFixed(1).padStart(7)} ${ratio(r.totalMs, ours.totalMs).toFixed(2).padStart(7)}`);
    }
    const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
    console.log(`\nJSON of records / cache-frames: ${summary.speedupVsJson}x (target >= 5: ${verdict(summary.speedupVsJson >= 5)})   CSV / cache-frames: ${summary.speedupVsCsv}x`);
    console.log(
      `cache-frames / arquero encode+decode: ${summary.vsArqueroInferred} (inferred types), ${summary.vsArqueroTyped} (explicit types) (target <= 1.2: ${verdict(Math.max(summary.vsArqueroInferred, summary.vsArqueroTyped) <= 1.2)})   cache-frames / raw SET+GET: ${summary.vsRawSetGet}`,
    );
    console.log(`hot getCachedDataFrame through L1 / cold read: ${summary.hotVsCold}x (${hot.hotMs.toFixed(3)} ms vs ${Math.round(hot.coldMs)} ms; target >= 100: ${verdict(summary.hotVsCold >= 100)}); ` +
      `the shared table it replaced (issue 22): ${hot.sharedMs.toFixed(3)} ms`);
    mkdirSync(join(root, 'bench-results'), { recursive: true });
    writeFileSync(join(root, 'bench-results/cache-frames.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, summary, results }, null, 2)}\n`);
  }
} finally {
  await cache.close();
  await server.stop();
}
