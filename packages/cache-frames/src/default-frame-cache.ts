import { getCache } from '@finrisk/cache-core';
import type { ColumnTable } from 'arquero';
import { FrameCache, type DataFrameInfo } from './frame-cache.js';
import type { GetCachedDataFrameOptions } from './frame-reader.js';
import type { CacheDataFrameOptions } from './frame-writer.js';

let shared: { frames: FrameCache; cache: ReturnType<typeof getCache> } | undefined;

/** The frame cache on the process-wide cache ({@link getCache}), with default settings. */
export function getFrameCache(): FrameCache {
  const cache = getCache();
  // resetCache() makes a new process-wide cache: follow it.
  if (!shared || shared.cache !== cache) shared = { frames: new FrameCache(cache), cache };
  return shared.frames;
}

/** Caches a table on the process-wide cache (the guide's `cache_dataframe`). @see FrameCache.cacheDataFrame */
export function cacheDataFrame(name: string, table: ColumnTable, options?: CacheDataFrameOptions): Promise<boolean> {
  return getFrameCache().cacheDataFrame(name, table, options);
}

/** Reads a table from the process-wide cache (the guide's `get_cached_dataframe`). @see FrameCache.getCachedDataFrame */
export function getCachedDataFrame(name: string, options?: GetCachedDataFrameOptions): Promise<ColumnTable | null> {
  return getFrameCache().getCachedDataFrame(name, options);
}

/** Describes a cached table without transferring it. @see FrameCache.getDataFrameInfo */
export function getDataFrameInfo(name: string): Promise<DataFrameInfo | null> {
  return getFrameCache().getDataFrameInfo(name);
}

/** Names of the cached tables. @see FrameCache.listDataFrames */
export function listDataFrames(): Promise<string[]> {
  return getFrameCache().listDataFrames();
}

/** Deletes a cached table. @see FrameCache.deleteDataFrame */
export function deleteDataFrame(name: string): Promise<boolean> {
  return getFrameCache().deleteDataFrame(name);
}
