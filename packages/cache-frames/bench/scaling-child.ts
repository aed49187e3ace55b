/**
 * One measurement of the table scaling bench (bench/scaling.ts), in a process of its own so that
 * the high-water mark of its RSS (`process.resourceUsage().maxRSS`) belongs to that measurement:
 *
 *   node --expose-gc --import tsx bench/scaling-child.ts write|read <rows> <connection JSON>
 *
 * `write` builds the bench table, writes it with default settings, then (after its peak RSS is
 * read) measures the raw baseline: the table's Arrow IPC bytes in 4 MiB pieces, every SET then
 * every GET in flight at once, with node-redis's sendCommand, Buffer replies and no deadline.
 * `read` reads the table a `write` left. Prints one JSON line (a {@link ChildResult}) on stdout.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createCache, type CacheErrorEvent } from '@finrisk/cache-core';
import { createClient, createCluster, type RedisArgument } from '@redis/client';
import * as aq from 'arquero';
import { createFrameCache } from '../src/index.js';
import { benchTableTypes, makeBenchTable } from './bench-table.js';

/** Where the child connects: a server's URL, or a cluster's seeds. */
export type ScalingConnection = { url: string } | { clusterNodes: string[] };

/** What one child measured. Sizes in bytes, times in ms. */
export interface ChildResult {
  phase: 'write' | 'read';
  rows: number;
  ok: boolean;
  /** Why the write or read failed (its error events), when `ok` is false. */
  error?: string;
  /** RSS once the table is built (write) and the cache connected, after a full GC: the fixed base. */
  baseRss: number;
  /** Highest RSS of the process before the operation (the table's construction can leave one above `baseRss`). */
  maxRssBefore: number;
  /** Highest RSS of the process by the end of the operation. */
  peakRss: number;
  /** Wall time of cacheDataFrame or getCachedDataFrame. */
  ms: number;
  /**
   * Longest the event loop was blocked during the operation (encoding, decoding, GC): a chunk's
   * deadline fires after such a stall even when Redis answered in time.
   */
  maxLoopStallMs?: number;
  /** Bytes stored for the table's chunks, from its manifest (write only). */
  storedBytes?: number;
  /** Arrow IPC of the whole table with the bench's column types (write only). */
  arrowBytes?: number;
  /** Raw baseline: SET of every 4 MiB piece of the Arrow IPC (write only). */
  rawSetMs?: number;
  /** Raw baseline: GET of every piece (write only). */
  rawGetMs?: number;
  /** Sum of the `qty` column, which the read checks against (write: computed; read: read back). */
  qtySum?: number;
  /** Time to build the bench table (write only). */
  buildMs?: number;
}

export const TABLE_NAME = 'scaling';
const WARMUP_NAME = 'scaling-warmup';
const WARMUP_ROWS = 10_000;
const PIECE_BYTES = 4 * 1024 * 1024;

const kib = () => process.resourceUsage().maxRSS * 1024;
const gc = () => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run the scaling child with --expose-gc');
  collect();
  collect();
};

function qtySum(table: aq.ColumnTable): number {
  const qty = table.column('qty')!;
  let sum = 0;
  for (let i = 0; i < table.numRows(); i++) sum += qty.at(i) as number;
  return sum;
}

/** The raw baseline's client: node-redis at its fastest (Buffer replies, no per-command deadline). */
async function rawClient(connection: ScalingConnection) {
  const commandOptions = { timeout: 0, typeMapping: { [36 /* RESP blob string */]: Buffer } };
  if ('url' in connection) {
    const client = createClient({ url: connection.url, commandOptions } as never);
    await client.connect();
    return { send: (_key: string, readonly: boolean, args: RedisArgument[]) => client.sendCommand(args) as Promise<unknown>, close: () => client.close() };
  }
  const cluster = createCluster({ rootNodes: connection.clusterNodes.map((n) => ({ url: `redis://${n}` })), commandOptions } as never);
  await cluster.connect();
  return { send: (key: string, readonly: boolean, args: RedisArgument[]) => cluster.sendCommand(key, readonly, args) as Promise<unknown>, close: () => cluster.close() };
}

async function rawBaseline(connection: ScalingConnection, ipc: Uint8Array): Promise<{ rawSetMs: number; rawGetMs: number }> {
  const client = await rawClient(connection);
  try {
    const pieces: { key: string; bytes: Buffer }[] = [];
    for (let offset = 0, i = 0; offset < ipc.byteLength; offset += PIECE_BYTES, i++) {
      pieces.push({ key: `raw:scaling:${i}`, bytes: Buffer.from(ipc.buffer, ipc.byteOffset + offset, Math.min(PIECE_BYTES, ipc.byteLength - offset)) });
    }
    let start = performance.now();
    await Promise.all(pieces.map((p) => client.send(p.key, false, ['SET', p.key, p.bytes])));
    const rawSetMs = performance.now() - start;
    start = performance.now();
    const back = (await Promise.all(pieces.map((p) => client.send(p.key, true, ['GET', p.key])))) as Buffer[];
    const rawGetMs = performance.now() - start;
    const got = back.reduce((n, b) => n + b.byteLength, 0);
    if (got !== ipc.byteLength) throw new Error(`raw baseline read back ${got} bytes of ${ipc.byteLength}`);
    await Promise.all(pieces.map((p) => client.send(p.key, false, ['UNLINK', p.key])));
    return { rawSetMs, rawGetMs };
  } finally {
    await client.close();
  }
}

async function main(): Promise<ChildResult> {
  const [phase, rowsArg, connectionArg] = process.argv.slice(2);
  if ((phase !== 'write' && phase !== 'read') || !rowsArg || !connectionArg) throw new Error('usage: scaling-child.ts write|read <rows> <connection JSON>');
  const rows = Number(rowsArg);
  const connection = JSON.parse(connectionArg) as ScalingConnection;

  let table: aq.ColumnTable | null = null;
  let buildMs: number | undefined;
  if (phase === 'write') {
    const start = performance.now();
    table = makeBenchTable(rows);
    buildMs = performance.now() - start;
  }
  // Default settings: only where Redis is, the backend, the key prefix, and no .env file.
  const cache = createCache({ ...connection, backend: 'redis', keyPrefix: 'scaling', envFile: false });
  const errors: string[] = [];
  cache.on('error', (e: CacheErrorEvent) => errors.push(`${e.operation}: ${e.error.code} ${e.error.message}`));
  const frames = createFrameCache(cache);
  frames.on('error', (e) => errors.push(`${e.operation}: ${e.error.code} ${e.error.message}`));
  try {
    await cache.connect();
    // A small table first, so that the measurement is of the per-row cost and not of a cold
    // process compiling the transfer code (the raw baseline runs warm, after it).
    if (phase === 'write') {
      if (!(await frames.cacheDataFrame(WARMUP_NAME, makeBenchTable(WARMUP_ROWS)))) throw new Error(`the warm-up write failed: ${errors.join('; ')}`);
    } else if ((await frames.getCachedDataFrame(WARMUP_NAME))?.numRows() !== WARMUP_ROWS) {
      throw new Error(`the warm-up read failed: ${errors.join('; ')}`);
    }
    gc();
    const baseRss = process.memoryUsage().rss;
    const maxRssBefore = kib();
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    const maxLoopStallMs = () => {
      stalls.disable();
      return Math.round(stalls.max / 1e6);
    };
    const start = performance.now();
    if (phase === 'write') {
      const ok = await frames.cacheDataFrame(TABLE_NAME, table!);
      const ms = performance.now() - start;
      const peakRss = kib();
      const result: ChildResult = { phase, rows, ok, baseRss, maxRssBefore, peakRss, ms, maxLoopStallMs: maxLoopStallMs(), buildMs: buildMs! };
      if (!ok) return { ...result, error: errors.join('; ') || 'cacheDataFrame answered false with no error event' };
      result.storedBytes = (await frames.getDataFrameInfo(TABLE_NAME))?.bytes;
      result.qtySum = qtySum(table!);
      // After the peak is read: neither the IPC below nor the raw baseline counts in it.
      const ipc = aq.toArrowIPC(table!, { types: benchTableTypes });
      table = null;
      result.arrowBytes = ipc.byteLength;
      Object.assign(result, await rawBaseline(connection, ipc));
      return result;
    }
    const back = await frames.getCachedDataFrame(TABLE_NAME);
    const ms = performance.now() - start;
    const peakRss = kib();
    const result: ChildResult = { phase, rows, ok: back !== null, baseRss, maxRssBefore, peakRss, ms, maxLoopStallMs: maxLoopStallMs() };
    if (!back) return { ...result, error: errors.join('; ') || 'getCachedDataFrame was a miss with no error event' };
    if (back.numRows() !== rows || back.numCols() !== 10) return { ...result, ok: false, error: `read back ${back.numRows()} rows x ${back.numCols()} columns, wrote ${rows} x 10` };
    return { ...result, qtySum: qtySum(back) };
  } finally {
    await cache.close();
  }
}

process.stdout.write(`${JSON.stringify(await main())}\n`);
