import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { CacheKey } from '@finrisk/cache-core';
import { Column, tableFromColumns, tableToIPC, type Batch, type DataType } from '@uwdata/flechette';
import type { ColumnTable } from 'arquero';
import { describeType } from './arrow-types.js';
import { toArrowColumnSteps } from './column-builder.js';
import { FrameError } from './errors.js';
import { chunkKey, manifestKey, type FrameContext } from './frame-context.js';
import { MessageType, splitIpcMessages } from './ipc-messages.js';
import { checksum } from './checksum.js';
import { checkManifest, type FrameManifest, type ManifestColumn } from './manifest.js';
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
  /** Switches the manifest to this version and removes the previous version's chunks; false when the backend failed. */
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
  const { chunkBytes, compression, maxTableBytes, maxBytesInFlight, transferMsPerMiB, chunkGraceSeconds } = ctx.options;
  const ttlMs = cache.ttlMs('dataframe', options.ttl);
  // Chunks outlive the manifest a little, so that a reader who got the manifest finds its chunks.
  const chunkTtl = ttlMs === undefined ? null : ttlMs / 1000 + chunkGraceSeconds;
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
    const sent = cache.setMany([{ key, value: bytes }], { ttl: chunkTtl, compress: false, timeoutMs }).then(
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
  const cleanUp = async () => {
    await Promise.all(inflight);
    if (written.length > 0) await cache.deleteMany(written).catch(() => undefined);
  };

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
  try {
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
      const mKey = manifestKey(cache, name);
      const previous = await cache.get<unknown>(mKey);
      manifest.writtenAt = Date.now();
      const ok = await cache.set(mKey, manifest, { ttl: ttlMs === undefined ? null : ttlMs / 1000 });
      if (!ok) {
        await cleanUp();
        return false;
      }
      // Only a manifest this package could have written names chunks to delete: a forged one
      // (a version with a control character, chunks that are not objects) made this throw after
      // the new manifest was stored. Its chunks, if any, expire with their TTL.
      const checked = previous === null ? undefined : checkManifest(previous, name, { maxChunkBytes: Infinity, maxTableBytes: Infinity });
      if (checked && 'manifest' in checked && checked.manifest.version !== version) {
        const before = checked.manifest;
        const old = before.columns.flatMap((c) => c.chunks.map((k) => chunkKey(cache, name, before.version, k.index)));
        if (old.length > 0) await cache.deleteMany(old);
      }
      return true;
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
