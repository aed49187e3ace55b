import { TypedEmitter, type Cache } from '@finrisk/cache-core';
import type { ColumnTable } from 'arquero';
import { FrameError } from './errors.js';
import { FRAME_KIND, manifestKey, type FrameContext, type FrameErrorEvent } from './frame-context.js';
import { checkCallOptions, resolveFrameOptions, type FrameCacheOptions, type ResolvedFrameOptions } from './frame-options.js';
import { readFrame, readManifest, type GetCachedDataFrameOptions } from './frame-reader.js';
import { isArqueroTable, stageFrame, type CacheDataFrameOptions, type StagedFrame } from './frame-writer.js';
import type { FrameCompression } from './manifest.js';
import { validateTableName } from './table-name.js';

/** What {@link FrameCache.getDataFrameInfo} answers, without transferring the table. */
export interface DataFrameInfo {
  name: string;
  /** Id of the write that produced the table. */
  version: string;
  rows: number;
  /** Columns in order, with their Arrow types (e.g. `int32`, `utf8`, `date32[day]`, `timestamp[ms, UTC]`). */
  columns: { name: string; type: string; nullCount: number; bytes: number; chunks: number }[];
  /** Stored bytes of all chunks (the manifest not included). */
  bytes: number;
  chunks: number;
  compression: FrameCompression;
  writtenAt: Date;
  /** When the manifest expires; null when it never does (or the backend did not say). */
  expiresAt: Date | null;
}

/** Events of a frame cache. */
export interface FrameCacheEvents {
  /** A manifest or chunk could not be used; the read was a miss. */
  error: (event: FrameErrorEvent) => void;
}

/**
 * Arquero tables cached as chunked Arrow IPC on one {@link Cache}. Backend failures never
 * throw (reads are misses, writes answer false); bad input throws {@link FrameError}.
 */
export class FrameCache {
  /** The cache underneath. */
  readonly cache: Cache;
  /** The resolved settings. */
  readonly options: Readonly<ResolvedFrameOptions>;
  readonly #events = new TypedEmitter<FrameCacheEvents>(['error']);
  readonly #ctx: FrameContext;

  constructor(cache: Cache, options: FrameCacheOptions = {}) {
    this.cache = cache;
    this.options = Object.freeze(resolveFrameOptions(options, cache.config));
    this.#ctx = {
      cache,
      options: this.options,
      emitError: (event) => {
        // Also to the cache's own listeners and error counts (services and metrics watch those).
        cache.reportError({ error: event.error, operation: event.operation, kind: 'dataframe', ...(event.key ? { key: event.key } : {}) });
        this.#events.emit('error', event);
      },
    };
  }

  /** Subscribes to error events; returns a function that unsubscribes. */
  on(event: 'error', listener: FrameCacheEvents['error']): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Caches `table` under `name`: all chunks of a new version first, then the manifest. True when
   * stored; false when the backend failed (the previous table, if any, stays readable) or the
   * outcome of the manifest SET stayed unknown after reading it back (nothing is deleted then,
   * and every chunk involved expires unless the manifest names it; see the README, "How a write
   * commits").
   * Throws FrameError for a bad name (TABLE_NAME), a non-table (NOT_A_TABLE), a value that does
   * not fit its column type (COLUMN_TYPE) or a table over `maxTableBytes` (TABLE_TOO_LARGE).
   */
  async cacheDataFrame(name: string, table: ColumnTable, options: CacheDataFrameOptions = {}): Promise<boolean> {
    const staged = await this.stage(name, table, options);
    return staged ? staged.commit() : false;
  }

  /**
   * Stores the chunks of a write without switching the manifest: readers still see the previous
   * table until `commit()`. For callers that prepare a table and publish it later; null when
   * the backend failed.
   */
  async stage(name: string, table: ColumnTable, options: CacheDataFrameOptions = {}): Promise<StagedFrame | null> {
    validateTableName(name);
    checkCallOptions(options, `cacheDataFrame(${JSON.stringify(name)})`);
    if (!isArqueroTable(table)) throw new FrameError('NOT_A_TABLE', `cacheDataFrame(${JSON.stringify(name)}) needs an arquero table, got ${table === null ? 'null' : typeof table}`);
    return stageFrame(this.#ctx, name, table, options);
  }

  /**
   * Reads a cached table (or some of its columns); null when missing, expired, damaged, or the
   * backend failed. The table is the caller's own: nothing done to it (an array from `toArray()`
   * written into or sorted in place) changes what another call returns, with L1 on too.
   */
  async getCachedDataFrame(name: string, options: GetCachedDataFrameOptions = {}): Promise<ColumnTable | null> {
    validateTableName(name);
    checkCallOptions(options, `getCachedDataFrame(${JSON.stringify(name)})`);
    return readFrame(this.#ctx, name, options);
  }

  /** Rows, columns, types, sizes and times of a cached table, from its manifest alone; null when not cached. */
  async getDataFrameInfo(name: string): Promise<DataFrameInfo | null> {
    validateTableName(name);
    const manifest = await readManifest(this.#ctx, name, 'getDataFrameInfo');
    if (!manifest) return null;
    const pttl = await this.cache.pttl(manifestKey(this.cache, name));
    const expiresAt = pttl !== null && pttl >= 0 ? new Date(Date.now() + pttl)
      : pttl === null && manifest.ttlSeconds !== null ? new Date(manifest.writtenAt + manifest.ttlSeconds * 1000) : null;
    return {
      name,
      version: manifest.version,
      rows: manifest.rows,
      columns: manifest.columns.map((c) => ({ name: c.name, type: c.type, nullCount: c.nullCount, bytes: c.bytes, chunks: c.chunks.length })),
      bytes: manifest.bytes,
      chunks: manifest.columns.reduce((n, c) => n + c.chunks.length, 0),
      compression: manifest.compression,
      writtenAt: new Date(manifest.writtenAt),
      expiresAt,
    };
  }

  /** Names of the cached tables, sorted (SCAN, never KEYS). */
  async listDataFrames(): Promise<string[]> {
    const names = new Set<string>();
    const prefix = this.cache.keys.prefixOf(FRAME_KIND);
    for await (const keys of this.cache.scan({ kind: FRAME_KIND, prefix })) {
      for (const key of keys) {
        const parts = this.cache.keys.parse(FRAME_KIND, key);
        if (parts && parts.length === 2 && parts[1] === 'manifest') names.add(parts[0]!);
      }
    }
    return [...names].sort();
  }

  /**
   * Deletes a cached table: the manifest first (readers miss at once), then every chunk of every
   * version, including those of interrupted writes. True when the table existed.
   */
  async deleteDataFrame(name: string): Promise<boolean> {
    validateTableName(name);
    const existed = await this.cache.delete(manifestKey(this.cache, name));
    await this.cache.deleteByPrefix({ kind: FRAME_KIND, prefix: this.cache.keys.prefixOf(FRAME_KIND, name) });
    return existed;
  }
}

/** Creates a frame cache on `cache`; it holds no connection of its own. */
export function createFrameCache(cache: Cache, options: FrameCacheOptions = {}): FrameCache {
  return new FrameCache(cache, options);
}
