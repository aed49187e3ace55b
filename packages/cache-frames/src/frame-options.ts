import { FinRiskCacheError, type CacheConfig } from '@finrisk/cache-core';
import type { FrameCompression } from './manifest.js';

const MIB = 1024 * 1024;

/**
 * Longest delay Node's timers honour, in ms (2^31 - 1): a longer one fires after 1 ms, so a
 * deadline computed past it would time every command out at once. Every deadline this package
 * computes is capped at it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A deadline in ms, whole and within what a timer can wait. */
export function timerMs(ms: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(ms)));
}

/** Settings of a {@link FrameCache}. */
export interface FrameCacheOptions {
  /** Target size of one stored chunk, in bytes, from 1024 to 1073741824 (capped by the cache's `maxValueBytes`). @default 4194304 (4 MiB) */
  chunkBytes?: number;
  /** Chunk compression, `'none'` or `'deflate'`. Measured on a 1M-row table over loopback Redis, `none` was fastest end to end. @default 'none' */
  compression?: FrameCompression;
  /**
   * Largest table, in bytes (1024 to 2^40), both as stored and as Arrow data before compression:
   * bigger writes throw FrameError TABLE_TOO_LARGE, and a read never inflates more than this (a
   * manifest that claims more is a miss with an error event). @default 1073741824 (1 GiB)
   */
  maxTableBytes?: number;
  /**
   * Most chunk bytes in flight at once while a table is written or read, per Redis master (a
   * cluster of 3 masters has 3 times this in flight), from 1024 to 4294967296: each chunk is its
   * own command. @default 16777216 (16 MiB)
   */
  maxBytesInFlight?: number;
  /**
   * Deadline of each chunk command, in ms per MiB in flight with it (its own bytes and those
   * written before it), on top of the cache's `commandTimeoutMs`; more than 0, at most 60000:
   * with the defaults a 4 MiB chunk behind 12 MiB gets 250 + 16 × 250 = 4,250 ms. A link slower
   * than 1 MiB per this many ms fails the table (as a miss, or a write that answers false); a
   * slower link just takes longer. Deadlines are capped at 2^31 - 1 ms (Node's timer limit). @default 250
   */
  transferMsPerMiB?: number;
  /**
   * How much longer than the manifest a committed table's chunks live, in seconds (0 to 31536000),
   * so that a reader holding the manifest finds its chunks. @default 60
   */
  chunkGraceSeconds?: number;
  /**
   * Time to live of a write's chunks until its manifest commits, in seconds (1 to 86400): the
   * chunks of a writer that dies mid-transfer expire after this, whatever the table's TTL (none
   * included). A write in progress renews it every quarter of it, so a long write keeps its
   * chunks; a `stage()`d write must be committed within half of it. At least 4 times the longest
   * chunk deadline (`commandTimeoutMs` + `transferMsPerMiB` × MiB of `maxBytesInFlight` and a chunk),
   * so that a renewal queued behind a full window arrives in time.
   * @default 8 times the longest chunk deadline, at least 60
   */
  stagingSeconds?: number;
}

/** Settings of a frame cache, all resolved. */
export interface ResolvedFrameOptions {
  /** Target size of one chunk, in bytes. */
  chunkBytes: number;
  /** Chunk compression. */
  compression: FrameCompression;
  /** Largest table, in bytes, stored and before compression. */
  maxTableBytes: number;
  /** Most chunk bytes in flight per Redis master. */
  maxBytesInFlight: number;
  /** Deadline of a chunk command, in ms per MiB in flight with it, on top of `commandTimeoutMs`. */
  transferMsPerMiB: number;
  /** How much longer than the manifest a committed table's chunks live, in seconds. */
  chunkGraceSeconds: number;
  /** Time to live of a write's chunks until its manifest commits, in seconds. */
  stagingSeconds: number;
}

function invalid(option: string, range: string, value: unknown): FinRiskCacheError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new FinRiskCacheError('E_INVALID_CONFIG', `frame cache option ${option} must be ${range}, got ${shown}`);
}

function numberIn(options: FrameCacheOptions, option: keyof FrameCacheOptions, range: { min: number; max: number; minExclusive?: boolean; integer?: boolean; unit: string }, fallback: number): number {
  const value = options[option];
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && Number.isFinite(value) && (range.minExclusive ? value > range.min : value >= range.min) && value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!ok) {
    const kind = range.integer ? `a whole number of ${range.unit}` : `a number of ${range.unit}`;
    throw invalid(option, `${kind} from ${range.minExclusive ? 'more than ' : ''}${range.min} to ${range.max}`, value);
  }
  return value;
}

/**
 * The settings of a frame cache on a cache with `config`: every option checked against its range
 * (E_INVALID_CONFIG naming it and the range; a value a timer or the code cannot honour, such as
 * `transferMsPerMiB: 1e9` or `chunkGraceSeconds: -100`, was accepted before), defaults filled in.
 */
export function resolveFrameOptions(options: FrameCacheOptions, config: Pick<CacheConfig, 'commandTimeoutMs' | 'maxValueBytes'>): ResolvedFrameOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  const compression = options.compression ?? 'none';
  if (compression !== 'none' && compression !== 'deflate') throw invalid('compression', "'none' or 'deflate'", compression);
  const chunkBytes = numberIn(options, 'chunkBytes', { min: 1024, max: 1024 * MIB, integer: true, unit: 'bytes' }, 4 * MIB);
  const maxTableBytes = numberIn(options, 'maxTableBytes', { min: 1024, max: 2 ** 40, integer: true, unit: 'bytes' }, 1024 * MIB);
  const maxBytesInFlight = numberIn(options, 'maxBytesInFlight', { min: 1024, max: 4096 * MIB, integer: true, unit: 'bytes' }, 16 * MIB);
  const transferMsPerMiB = numberIn(options, 'transferMsPerMiB', { min: 0, minExclusive: true, max: 60_000, unit: 'ms per MiB' }, 250);
  const chunkGraceSeconds = numberIn(options, 'chunkGraceSeconds', { min: 0, max: 365 * 86_400, unit: 'seconds' }, 60);
  const resolved = {
    chunkBytes: Math.min(chunkBytes, Math.max(1024, config.maxValueBytes - 64)),
    compression,
    maxTableBytes,
    maxBytesInFlight,
    transferMsPerMiB,
    chunkGraceSeconds,
  };
  const longest = longestChunkDeadlineMs(resolved, config.commandTimeoutMs);
  const shortestStaging = Math.ceil((4 * longest) / 1000);
  let stagingSeconds: number;
  if (options.stagingSeconds === undefined) stagingSeconds = Math.min(86_400, Math.max(60, Math.ceil((8 * longest) / 1000)));
  else {
    stagingSeconds = numberIn(options, 'stagingSeconds', { min: 1, max: 86_400, unit: 'seconds' }, 0);
    if (stagingSeconds < shortestStaging) {
      throw new FinRiskCacheError(
        'E_INVALID_CONFIG',
        `frame cache option stagingSeconds must be at least 4 times the longest chunk deadline (${longest} ms: commandTimeoutMs ${config.commandTimeoutMs} + ` +
          `transferMsPerMiB ${transferMsPerMiB} × ${((maxBytesInFlight + resolved.chunkBytes) / MIB).toFixed(2)} MiB), that is ${shortestStaging}, got ${stagingSeconds}; ` +
          'raise it, or lower transferMsPerMiB or maxBytesInFlight',
      );
    }
  }
  return { ...resolved, stagingSeconds };
}

/**
 * The longest deadline a chunk command can get, in ms: one behind a full window
 * (`maxBytesInFlight`) and a chunk of its own. A command queued behind that many bytes (a
 * renewal of the staging TTL, say) may wait that long for its turn.
 */
export function longestChunkDeadlineMs(options: Pick<ResolvedFrameOptions, 'maxBytesInFlight' | 'chunkBytes' | 'transferMsPerMiB'>, commandTimeoutMs: number): number {
  return timerMs(commandTimeoutMs + (options.transferMsPerMiB * (options.maxBytesInFlight + options.chunkBytes)) / MIB);
}

/** Checks the options of one write or read (E_INVALID_VALUE naming the option); `ttl` is checked by the cache. */
export function checkCallOptions(options: unknown, operation: string): void {
  if (options === undefined) return;
  const bad = (what: string, value: unknown) =>
    new FinRiskCacheError('E_INVALID_VALUE', `${operation}: ${what}, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw bad('options must be an object', options);
  const o = options as { onProgress?: unknown; columns?: unknown; types?: unknown };
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw bad('onProgress must be a function', o.onProgress);
  if (o.columns !== undefined && (!Array.isArray(o.columns) || !o.columns.every((c) => typeof c === 'string'))) throw bad('columns must be an array of column names', o.columns);
  if (o.types !== undefined && (typeof o.types !== 'object' || o.types === null || Array.isArray(o.types))) throw bad('types must be an object of Arrow types by column', o.types);
}
