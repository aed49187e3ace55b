import type { Cache, CacheKey } from '@finrisk/cache-core';
import type { FrameError } from './errors.js';
import type { ResolvedFrameOptions } from './frame-options.js';

/** Something a listener should know: a chunk or manifest that could not be used. */
export interface FrameErrorEvent {
  error: FrameError;
  /** The operation that met it, e.g. `getCachedDataFrame`. */
  operation: string;
  /** The table involved. */
  table: string;
  /** The key involved, when there is one. */
  key?: string;
}

/** What the writer and reader share: the cache, settings, keys and the error channel. */
export interface FrameContext {
  cache: Cache;
  options: ResolvedFrameOptions;
  emitError(event: FrameErrorEvent): void;
}

/** The kind of every key this package writes (its default TTL is `CACHE_DATAFRAME_TTL`). */
export const FRAME_KIND = 'dataframe';

/** `{prefix}:dataframe:{name}:manifest` */
export function manifestKey(cache: Cache, name: string): CacheKey {
  return cache.keys.key(FRAME_KIND, name, 'manifest');
}

/**
 * `{prefix}:dataframe:{name}:chunk:{version}:{index}`. Never held in the cache's L1 tier: L1
 * keeps the decoded table beside the manifest instead of the chunks it was decoded from.
 */
export function chunkKey(cache: Cache, name: string, version: string, index: number): CacheKey {
  return { ...cache.keys.key(FRAME_KIND, name, 'chunk', version, String(index)), local: false };
}
