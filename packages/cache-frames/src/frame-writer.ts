import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { CacheKey } from '@finrisk/cache-core';
import { Column, tableFromColumns, tableToIPC, type Batch, type DataType } from '@uwdata/flechette';
import type { ColumnTable } from 'arquero';
import { describeType } from './arrow-types.js';
import { toArrowColumnSteps } from './column-builder.js';
import { FrameError } from './errors.js';
import { chunkKey, type FrameContext } from './frame-context.js';
import { MessageType, splitIpcMessages } from './ipc-messages.js';
import { checksum } from './checksum.js';
import { commitWrite } from './commit.js';
import type { FrameManifest, ManifestColumn } from './manifest.js';
import { registerWrite, renewKeys, StagingKeepAlive, unregisterWrite } from './staging.js';
import { ProgressMeter, TransferWindow, type FrameProgressListener } from './transfer.js';

/** Options of one write. */
export interface CacheDataFrameOptions {
  /** Time to live in seconds; null keeps the table until deleted. @default `CACHE_DATAFRAME_TTL` (7200) */
  ttl?: number | null;
  /** Arrow types by column name, for columns whose inferred type is not the one wanted (e.g. `dictionary(utf8())`). */
  types?: Record<string, DataType>;
  /**
   * Told after each chunk is stored, and once at the end (`done`); for a progress bar. What it
   * throws aborts the write (the chunks stored are removed) and is thrown by the write.
   */
  onProgress?: FrameProgressListener;
}

/** A write whose chunks are stored but whose manifest is not switched yet. */
export interface StagedFrame {
  /** The manifest that {@link StagedFrame.commit} stores. */
  readonly manifest: FrameManifest;
  /** Keys of the stored chunks. */
  readonly chunkKeys: readonly CacheKey[];
  /**
   * Switches the manifest to this version and removes the previous version's chunks; false when
   * the backend failed or the outcome stayed unknown (see the package README, "How a write
   * commits"). Commit within half of `stagingSeconds`: the chunks of a staged write are not
   * renewed after `stage()` returns, and a later write of the same name takes chunks left that
   * long for those of a writer that died (commit then answers false).
   */
  commit(): Promise<boolean>;
  /** Removes this version's chunks without switching. */
  abort(): Promise<void>;
}

/** Longest the writer works without letting the event loop run, in ms. */
const SLICE_MS = 20;

/**
 * Lets the event loop run (replies read, requests written, timers and heartbeats served) whenever
 * a slice of synchronous work took {@link SLICE_MS}: encoding a 10,000,000-row table is seconds of
 * CPU, and awaiting a promise that is already resolved does not let a socket be read.
 */
class Slicer {
  #start = performance.now();

  async pause(): Promise<void> {
    if (performance.now() - this.#start < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#start = performance.now();
  }

  /** Runs steps to the end, pausing between them. */
  async run<T>(steps: Generator<void, T>): Promise<T> {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await this.pause();
    }
  }
}

/** True for an arquero table (duck-typed, so that two copies of arquero both work). */
export function isArqueroTable(value: unknown): value is ColumnTable {
  const t = value as Record<string, unknown>;
  return typeof t === 'object' && t !== null && typeof t.numRows === 'function' && typeof t.columnNames === 'function' &&
    typeof t.data === 'function' && typeof t.isFiltered === 'function';
}

function newVersion(): string {
  return `${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

/** Groups batches into chunks of about `target` bytes, keeping order. */
function groupBatches(batches: readonly Batch<unknown>[], target: number): Batch<unknown>[][] {
  const groups: Batch<unknown>[][] = [];
  let current: Batch<unknown>[] = [];
  let size = 0;
  for (const batch of batches) {
    const b = batch as unknown as { validity?: Uint8Array; values?: ArrayBufferView; offsets?: ArrayBufferView };
    const bytes = (b.validity?.byteLength ?? 0) + (b.values?.byteLength ?? 0) + (b.offsets?.byteLength ?? 0);
    if (current.length > 0 && size + bytes > target) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(batch);
    size += bytes;
  }
  if (current.length > 0 || groups.length === 0) groups.push(current);
  return groups;
}

/**
 * Encodes `table` column by column and stores its chunks under a fresh version, without
 * touching the manifest: the previous table stays what readers see. Each chunk is sent as it is
 * encoded, its own command in a window of `maxBytesInFlight` (per master), so memory holds one
 * column's Arrow data and a window of chunk bytes, never the whole table twice.
 * Returns null when the backend refused a chunk (the chunks written are removed); throws
 * FrameError for bad input or a table over `maxTableBytes` (chunks removed as well).
 */
export async function stageFrame(ctx: FrameContext, name: string, table: ColumnTable, options: CacheDataFrameOptions = {}): Promise<StagedFrame | null> {
  const { cache } = ctx;
  const { chunkBytes, compression, maxTableBytes, maxBytesInFlight, transferMsPerMiB, chunkGraceSeconds, stagingSeconds } = ctx.options;
  const ttlMs = cache.ttlMs('dataframe', options.ttl);
  // Until the manifest commits, chunks carry the staging TTL (see staging.ts); then the table's
  // TTL plus the grace, so that a reader who got the manifest finds its chunks (never less than
  // the staging TTL: a sweeping writer takes a chunk under half of it for one whose writer died).
  const committedChunkTtl = ttlMs === undefined ? null : Math.max(ttlMs / 1000 + chunkGraceSeconds, stagingSeconds);
  const source = table.isFiltered() || table.isOrdered() ? table.reify() : table;
  const data = source.data() as Record<string, unknown>;
  const columnNames = source.columnNames();
  const version = newVersion();
  const written: CacheKey[] = [];
  const columns: ManifestColumn[] = [];
  // On a cluster every master gets a window's worth: chunk keys spread over the slots.
  const window = new TransferWindow(() => maxBytesInFlight * cache.masterCount, cache.config.commandTimeoutMs, transferMsPerMiB);
  const meter = new ProgressMeter(options.onProgress, 'write', name, source.numRows(), columnNames.length);
  const inflight = new Set<Promise<void>>();
  const slicer = new Slicer();
  let failed = false;
  let thrown: { error: unknown } | undefined;
  let total = 0;
  let rawTotal = 0;
  let index = 0;

  // Each chunk is its own SET, under a deadline that grows with the bytes in flight with it.
  const send = async (key: CacheKey, bytes: Uint8Array, rows: number) => {
    const timeoutMs = await window.acquire(bytes.byteLength);
    if (failed || thrown) {
      window.release(bytes.byteLength);
      return;
    }
    const sent = cache.setMany([{ key, value: bytes }], { ttl: stagingSeconds, compress: false, timeoutMs }).then(
      (ok) => {
        window.release(bytes.byteLength);
        if (!ok) failed = true;
        else if (!thrown) {
          try {
            meter.chunk(bytes.byteLength, rows);
          } catch (error) {
            thrown = { error };
          }
        }
      },
      (error: unknown) => {
        // Strict mode: the backend's failure is thrown to the caller, after the clean-up.
        window.release(bytes.byteLength);
        thrown ??= { error };
      },
    );
    inflight.add(sent);
    void sent.then(() => inflight.delete(sent));
  };
  const settle = async () => {
    await Promise.all(inflight);
    if (thrown) throw thrown.error;
  };
  let keepAlive: StagingKeepAlive | undefined;
  const cleanUp = async () => {
    keepAlive?.stop();
    await Promise.all(inflight);
    if (written.length > 0) await cache.deleteMany(written).catch(() => undefined);
    await unregisterWrite(ctx, name, version);
  };

  // Listed before the first chunk, so that whoever writes this name next can remove the chunks
  // of this write if its process dies.
  if (!(await registerWrite(ctx, name, version))) return null;
  keepAlive = new StagingKeepAlive(ctx, name, written);
  try {
    for (const columnName of columnNames) {
      const built = await slicer.run(toArrowColumnSteps(columnName, data[columnName], options.types?.[columnName], chunkBytes));
      const { type } = built.column;
      const meta: ManifestColumn = {
        name: columnName, type: describeType(type), nullCount: built.column.nullCount, bigint: built.bigint, bytes: 0, chunks: [],
      };
      const groups = groupBatches(built.column.data, chunkBytes);
      for (let g = 0; g < groups.length; g++) {
        const batches = groups[g]!;
        const ipc = tableToIPC(tableFromColumns({ [columnName]: new Column(batches, type) }), { format: 'stream' })!;
        const messages = splitIpcMessages(ipc);
        // The first chunk keeps schema and dictionaries; the others hold only record batches.
        const keep = g === 0 ? messages : messages.filter((m) => m.type === MessageType.recordBatch);
        const end = keep.at(-1)?.end ?? 0;
        // Kept messages that follow each other (batches after the schema, the usual case) are a
        // view of the encoded bytes: a copy per chunk would double the buffers the GC must count.
        const contiguous = keep.every((m, i) => i === 0 || m.start === keep[i - 1]!.end);
        let bytes: Uint8Array = keep.length === messages.length ? ipc.subarray(0, end) : contiguous && keep.length > 0 ? ipc.subarray(keep[0]!.start, end) : concat(ipc, keep);
        const rawBytes = bytes.byteLength;
        if (compression === 'deflate') bytes = deflateRawSync(bytes, { level: 1 });
        total += bytes.byteLength;
        rawTotal += rawBytes;
        // Readers inflate no chunk past the cache's maxValueBytes and no table past maxTableBytes
        // (a deflate bomb must not take their memory), so a write they could not read is refused.
        if (total > maxTableBytes || rawTotal > maxTableBytes) {
          throw new FrameError(
            'TABLE_TOO_LARGE',
            `table ${JSON.stringify(name)} is over ${maxTableBytes} bytes encoded (reached ${Math.max(total, rawTotal)} at column ${JSON.stringify(columnName)}); ` +
              'raise maxTableBytes or cache fewer rows or columns',
          );
        }
        if (rawBytes > cache.config.maxValueBytes) {
          throw new FrameError(
            'TABLE_TOO_LARGE',
            `table ${JSON.stringify(name)}: a chunk of column ${JSON.stringify(columnName)} is ${rawBytes} bytes before compression, over maxValueBytes ` +
              `(${cache.config.maxValueBytes}); raise CACHE_MAX_VALUE_BYTES or split the long values`,
          );
        }
        const key = chunkKey(cache, name, version, index);
        const rows = batches.reduce((n, b) => n + b.length, 0);
        meta.chunks.push({ index, rows, bytes: bytes.byteLength, rawBytes, checksum: checksum(bytes) });
        meta.bytes += bytes.byteLength;
        index++;
        written.push(key);
        await send(key, bytes, rows);
        await slicer.pause();
        if (thrown) throw thrown.error;
        if (failed) break;
      }
      columns.push(meta);
      if (failed) break;
    }
    meter.totalBytes = total;
    meter.totalChunks = index;
    await settle();
  } catch (error) {
    await cleanUp();
    throw error;
  }
  if (failed) {
    await cleanUp();
    return null;
  }
  // With nothing in flight, every chunk is renewed (to the TTL it keeps once committed, when the
  // table has one): an answer within commandTimeoutMs, and proof that none of them is gone.
  const renew = async () => {
    const started = performance.now();
    if (!(await renewKeys(cache, written, committedChunkTtl ?? stagingSeconds, { tolerant: false }))) return false;
    renewedAt = started;
    return true;
  };
  let renewedAt = 0;
  try {
    keepAlive.stop();
    if (!(await renew())) {
      await cleanUp();
      return null;
    }
    meter.done();
  } catch (error) {
    await cleanUp();
    throw error;
  }

  const manifest: FrameManifest = {
    format: 'finrisk-frame', formatVersion: 1, name, version, rows: source.numRows(), writtenAt: Date.now(),
    ttlSeconds: ttlMs === undefined ? null : ttlMs / 1000, compression, bytes: total, columns,
  };
  return {
    manifest,
    chunkKeys: written,
    async commit() {
      // A stage()d write committed late: its chunks are renewed (and checked) again first.
      if (performance.now() - renewedAt > (stagingSeconds * 1000) / 4 && !(await renew())) {
        await cleanUp();
        return false;
      }
      return commitWrite(ctx, { name, manifest, chunkKeys: written, ttlMs, cleanUp });
    },
    abort: cleanUp,
  };
}

function concat(ipc: Uint8Array, parts: readonly { start: number; end: number }[]): Uint8Array {
  const size = parts.reduce((n, p) => n + p.end - p.start, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(ipc.subarray(p.start, p.end), at);
    at += p.end - p.start;
  }
  return out;
}
