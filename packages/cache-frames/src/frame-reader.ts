import { inflateRawSync } from 'node:zlib';
import { FinRiskCacheError } from '@finrisk/cache-core';
import { Table, tableFromIPC, type Column, type Field } from '@uwdata/flechette';
import type { ColumnTable } from 'arquero';
import { toArqueroTable } from './arquero-table.js';
import { checksum } from './checksum.js';
import { FrameError } from './errors.js';
import { checkIpcStream, rowsHeld } from './ipc-check.js';
import { chunkKey, manifestKey, type FrameContext } from './frame-context.js';
import { checkManifest, type FrameManifest, type ManifestColumn } from './manifest.js';
import { ProgressMeter, TransferWindow, type FrameProgressListener } from './transfer.js';

/**
 * A table kept in L1 beside its manifest: for each column read so far, its Arrow IPC bytes
 * (checked, inflated), never a decoded table. A decoded table cannot be shared: `toArray()` of a
 * column is a view of those bytes, arquero writes into a dictionary column's keys, and flechette
 * caches a dictionary's values in a plain array, so one caller's in-place write or sort changed
 * what every later reader of the process got. Each read decodes its own table over its own copy
 * of the bytes instead: a memcpy and a metadata parse per column (measured in bench/run.ts).
 */
interface HeldTable {
  columns: ReadonlyMap<string, HeldColumn>;
}

interface HeldColumn {
  /** The column's chunks as Arrow IPC, in order: the first holds the schema. Nobody outside this module sees them. */
  parts: readonly Uint8Array[];
  bigint: boolean;
}

/** What a held table counts against L1: the bytes it holds (what each read copies and decodes). */
function heldBytes(held: HeldTable): number {
  let bytes = 0;
  for (const column of held.columns.values()) for (const part of column.parts) bytes += part.byteLength;
  return bytes;
}

/** A column of a held table, decoded over a private copy of its bytes. */
function decodeHeld(name: string, held: HeldColumn): Decoded {
  const table = tableFromIPC(held.parts.map((p) => p.slice()), { useDate: true, useBigInt: held.bigint });
  const column = table.children[0];
  const field = table.schema.fields[0];
  // Held bytes were checked when they were fetched and never left this module.
  if (!column || !field || field.name !== name) throw new Error(`the L1 copy of column ${JSON.stringify(name)} does not decode`);
  return { column, field, schema: table.schema, parts: held.parts };
}

/** Options of a read. */
export interface GetCachedDataFrameOptions {
  /** Read only these columns, in this order; the other columns' chunks are not transferred. @default every column */
  columns?: readonly string[];
  /**
   * Told after each chunk arrives, and once at the end (`done`); for a progress bar. What it
   * throws aborts the read and is thrown by it.
   */
  onProgress?: FrameProgressListener;
}

/**
 * The manifest of `name`; null when there is none, or (with an error event) when it is not one
 * this package could have written, or is larger than this reader's `maxTableBytes`.
 */
export async function readManifest(ctx: FrameContext, name: string, operation: string): Promise<FrameManifest | null> {
  const key = manifestKey(ctx.cache, name);
  const value = await ctx.cache.get(key);
  if (value === null) return null;
  const checked = checkManifest(value, name, { maxChunkBytes: ctx.cache.config.maxValueBytes, maxTableBytes: ctx.options.maxTableBytes });
  if ('problem' in checked) {
    const error = checked.tooLarge
      ? new FrameError('TABLE_TOO_LARGE', `table ${JSON.stringify(name)} at ${key.key}: ${checked.problem}`)
      : new FrameError('MANIFEST_CORRUPT', `the manifest of table ${JSON.stringify(name)} at ${key.key} was not written by @finrisk/cache-frames: ${checked.problem}`);
    ctx.emitError({ error, operation, table: name, key: key.key });
    return null;
  }
  return checked.manifest;
}

/**
 * Inflates a stored chunk, never past what the manifest says it holds: `rawBytes` exactly, or
 * for manifests written before it was recorded, `ceiling` (the cache's maxValueBytes, or what is
 * left of the table's budget). A deflate bomb stops at the bound instead of taking the memory.
 */
function inflateChunk(stored: Uint8Array, rawBytes: number | undefined, ceiling: number): Uint8Array | string {
  const limit = Math.max(1, Math.min(rawBytes ?? ceiling, ceiling));
  let raw: Uint8Array;
  try {
    raw = inflateRawSync(stored, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      const bound = rawBytes !== undefined && rawBytes <= ceiling ? 'the size its manifest records' : 'maxValueBytes, or what is left of maxTableBytes for this read';
      return `inflates to more than ${limit} bytes (${bound})`;
    }
    return `does not decompress: ${(error as Error).message}`;
  }
  if (rawBytes !== undefined && raw.byteLength !== rawBytes) return `inflates to ${raw.byteLength} bytes, its manifest says ${rawBytes}`;
  return raw;
}

/** Errors that are the caller's, thrown as they are (a closed cache); the others are the backend's. */
const CALLER_ERRORS = new Set(['E_CLOSED', 'E_INVALID_KEY', 'E_INVALID_CONFIG']);

type Fetched =
  | { kind: 'ok'; decoded: Decoded[] }
  | { kind: 'missing'; key: string }
  | { kind: 'failed'; key: string }
  | { kind: 'corrupt'; key: string; reason: string };
type Failure = Exclude<Fetched, { kind: 'ok' }>;
type Decoded = { column: Column<unknown>; field: Field; schema: Table['schema']; parts: readonly Uint8Array[] };

/**
 * Fetches the chunks of the selected columns, each chunk its own GET in a window of
 * `maxBytesInFlight` (per master) under a deadline that grows with the bytes in flight with it,
 * and decodes each column as soon as its chunks are in (in column order), while later chunks are
 * still on the way. The first failure stops the transfer.
 */
async function fetchColumns(ctx: FrameContext, name: string, manifest: FrameManifest, selected: ManifestColumn[], meter: ProgressMeter): Promise<Fetched> {
  const { cache, options } = ctx;
  const window = new TransferWindow(() => options.maxBytesInFlight * cache.masterCount, cache.config.commandTimeoutMs, options.transferMsPerMiB);
  const keyOf = (c: number, k: number) => chunkKey(cache, name, manifest.version, selected[c]!.chunks[k]!.index);
  const bytes: (Uint8Array | null)[][] = selected.map((c) => c.chunks.map(() => null));
  const remaining = selected.map((c) => c.chunks.length);
  const decoded: Decoded[] = [];
  let failure: Failure | undefined;
  let thrown: { error: unknown } | undefined;
  // What this read may still inflate: the table's bound, spent chunk by chunk, column by column.
  let budget = options.maxTableBytes;

  const decodeColumn = (c: number): Decoded | Failure => {
    const meta = selected[c]!;
    const parts: Uint8Array[] = [];
    for (let k = 0; k < meta.chunks.length; k++) {
      const chunk = meta.chunks[k]!;
      const key = keyOf(c, k).key;
      const stored = bytes[c]![k]!;
      bytes[c]![k] = null;
      if (stored.byteLength !== chunk.bytes) return { kind: 'corrupt', key, reason: `holds ${stored.byteLength} bytes, the manifest says ${chunk.bytes}` };
      if (checksum(stored) !== chunk.checksum) return { kind: 'corrupt', key, reason: `checksum ${checksum(stored)} does not match the manifest's ${chunk.checksum}` };
      if (manifest.compression === 'deflate') {
        const raw = inflateChunk(stored, chunk.rawBytes, Math.min(cache.config.maxValueBytes, budget));
        if (typeof raw === 'string') return { kind: 'corrupt', key, reason: raw };
        budget -= raw.byteLength;
        parts.push(raw);
      } else {
        parts.push(stored);
      }
    }
    for (let k = 0; k < parts.length; k++) {
      const problem = checkIpcStream(parts[k]!);
      if (problem) return { kind: 'corrupt', key: keyOf(c, k).key, reason: `is not Arrow IPC this package wrote: ${problem}` };
    }
    try {
      const table = tableFromIPC(parts, { useDate: true, useBigInt: meta.bigint });
      const column = table.children[0];
      const field = table.schema.fields[0];
      if (!column || !field || column.length !== manifest.rows || field.name !== meta.name) {
        throw new Error(`expected column ${JSON.stringify(meta.name)} of ${manifest.rows} rows, found ${column ? `${column.length} rows of ${JSON.stringify(field?.name)}` : 'none'}`);
      }
      const held = rowsHeld(field.type.typeId, parts);
      if (column.length > held) throw new Error(`it claims ${column.length} rows, more than its ${held / 8} bytes can hold`);
      return { column, field, schema: table.schema, parts };
    } catch (error) {
      return { kind: 'corrupt', key: keyOf(c, 0).key, reason: `column ${JSON.stringify(meta.name)} does not decode: ${(error as Error).message}` };
    }
  };
  // Columns complete out of order when chunks do; they are decoded in order, each once complete.
  const decodeReady = () => {
    while (!failure && decoded.length < selected.length && remaining[decoded.length] === 0) {
      const result = decodeColumn(decoded.length);
      if ('kind' in result) failure = result;
      else decoded.push(result);
    }
  };

  meter.totalBytes = selected.reduce((n, c) => n + c.bytes, 0);
  meter.totalChunks = selected.reduce((n, c) => n + c.chunks.length, 0);
  const inflight = new Set<Promise<void>>();
  for (let c = 0; c < selected.length && !failure && !thrown; c++) {
    const chunks = selected[c]!.chunks;
    for (let k = 0; k < chunks.length && !failure && !thrown; k++) {
      const chunk = chunks[k]!;
      const key = keyOf(c, k);
      const timeoutMs = await window.acquire(chunk.bytes);
      if (failure || thrown) {
        window.release(chunk.bytes);
        break;
      }
      // A failed read throws (the cache reports it with its cause), so that null means missing.
      const got = cache.getMany<Uint8Array>([key], { timeoutMs, throwOnFailure: true }).then(
        ([value]) => {
          window.release(chunk.bytes);
          if (failure || thrown) return;
          if (!(value instanceof Uint8Array)) {
            failure = { kind: 'missing', key: key.key };
            return;
          }
          bytes[c]![k] = value;
          remaining[c]!--;
          try {
            meter.chunk(chunk.bytes, chunk.rows);
            decodeReady();
          } catch (error) {
            thrown ??= { error };
          }
        },
        (error: unknown) => {
          window.release(chunk.bytes);
          // Strict mode throws the backend's failure to the caller; otherwise it is a miss.
          if (error instanceof FinRiskCacheError && !cache.config.strict && !CALLER_ERRORS.has(error.code)) failure ??= { kind: 'failed', key: key.key };
          else thrown ??= { error };
        },
      );
      inflight.add(got);
      void got.then(() => inflight.delete(got));
    }
  }
  await Promise.all(inflight);
  if (thrown) throw thrown.error;
  if (failure) return failure;
  decodeReady();
  if (failure) return failure;
  meter.done();
  return { kind: 'ok', decoded };
}

/** An arquero table of `columns`, in order. */
function tableOf(columns: readonly Decoded[]): ColumnTable {
  const schema = columns[0]?.schema ?? ({ version: 5, endianness: 0, fields: [], metadata: null } as unknown as Table['schema']);
  return toArqueroTable(new Table({ ...schema, fields: columns.map((d) => d.field) }, columns.map((d) => d.column)));
}

/**
 * Reads a cached table: the manifest, then the chunks of the selected columns, each checked
 * against its checksum. A chunk that is missing because a newer write replaced the version is
 * retried once with the new manifest; otherwise a missing or corrupt chunk is a miss and an
 * error event, never a partial table.
 */
export async function readFrame(ctx: FrameContext, name: string, options: GetCachedDataFrameOptions = {}): Promise<ColumnTable | null> {
  const operation = 'getCachedDataFrame';
  const local = ctx.cache.localAttachments;
  for (let attempt = 0; attempt < 2; attempt++) {
    const manifest = await readManifest(ctx, name, operation);
    if (!manifest) return null;
    let selected = manifest.columns;
    if (options.columns) {
      selected = options.columns.map((c) => {
        const found = manifest.columns.find((m) => m.name === c);
        if (!found) {
          throw new FrameError('UNKNOWN_COLUMN', `table ${JSON.stringify(name)} has no column ${JSON.stringify(c)}; its columns are ${manifest.columns.map((m) => JSON.stringify(m.name)).join(', ')}`, { column: c });
        }
        return found;
      });
    }
    // With the cache's L1 tier on, this manifest version's columns are kept beside the manifest
    // (as bytes, see HeldTable): a hot read (of all columns or some) reads no chunk, and a write
    // of a new version (by anyone) drops them with the manifest.
    const mKey = manifestKey(ctx.cache, name);
    const tag = `table:${manifest.version}`;
    const held = local?.get(mKey, tag) as HeldTable | undefined;
    const missing = held ? selected.filter((c) => !held.columns.has(c.name)) : selected;
    const meter = new ProgressMeter(options.onProgress, 'read', name, manifest.rows, missing.length);
    let result: Fetched | undefined;
    if (missing.length > 0) {
      result = await fetchColumns(ctx, name, manifest, missing, meter);
    } else meter.done();
    if (result === undefined || result.kind === 'ok') {
      const fetched = new Map((result?.decoded ?? []).map((d, i) => [missing[i]!.name, d]));
      if (local && fetched.size > 0) {
        // L1 keeps copies: the caller's table is a view of the fetched bytes, and it is theirs.
        const columns = new Map(held?.columns ?? []);
        for (const [c, d] of fetched) columns.set(c, { parts: d.parts.map((p) => p.slice()), bigint: missing.find((m) => m.name === c)!.bigint });
        const next: HeldTable = { columns };
        local.set(mKey, tag, next, heldBytes(next));
      }
      return tableOf(selected.map((c) => fetched.get(c.name) ?? decodeHeld(c.name, held!.columns.get(c.name)!)));
    }
    // The cache reported the backend's failure (an error event with its cause): a miss.
    if (result.kind === 'failed') return null;
    if (result.kind === 'missing' && attempt === 0) {
      const now = await readManifest(ctx, name, operation);
      if (now && now.version !== manifest.version) continue; // replaced while we read: read the new one
    }
    const error = result.kind === 'missing'
      ? new FrameError('CHUNK_MISSING', `chunk ${result.key} of table ${JSON.stringify(name)} is missing (evicted, or deleted by hand); the table reads as a miss until it is cached again`)
      : new FrameError('CHUNK_CORRUPT', `chunk ${result.key} of table ${JSON.stringify(name)} ${result.reason}; the table reads as a miss until it is cached again`);
    ctx.emitError({ error, operation, table: name, key: result.key });
    return null;
  }
  return null;
}
