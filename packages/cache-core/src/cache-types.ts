import type { CacheOptions } from './config.js';
import type { CacheErrorCode, FinRiskCacheError } from './errors.js';
import type { CacheKey } from './keys.js';
import type { MAX_TIMEOUT_MS } from './stores/deadline.js';
import type { CacheStore } from './stores/store.js';

/** A key: a string under the generic `kv` kind, or a key built by {@link KeySchema}. */
export type KeyInput = string | CacheKey;

/** A set of keys sharing a literal start, built by {@link KeySchema.prefixOf}. */
export interface KeyPrefix {
  kind: string;
  prefix: string;
}

/** Options of a write. */
export interface SetOptions {
  /**
   * Time to live in seconds (fractions allowed, at least 1 ms); `null` keeps the entry until it
   * is deleted. @default the TTL of the key's kind (`CACHE_DEFAULT_TTL` for generic keys)
   */
  ttl?: number | null;
  /** false: store the value uncompressed whatever its size (it is compressed already). @default true */
  compress?: boolean;
}

/** Options of {@link Cache.getMany}. */
export interface GetManyOptions {
  /**
   * Deadline of each round trip this call makes, in ms, for a transfer whose size the caller
   * knows (a table's chunk): each gets at least this long. Misses, as always, after it. At most
   * {@link MAX_TIMEOUT_MS} (2147483647, what a Node timer holds): more is refused with
   * E_INVALID_CONFIG; clamp a computed deadline to it.
   * @default `commandTimeoutMs` (`CACHE_COMMAND_TIMEOUT_MS`, 250)
   */
  timeoutMs?: number;
  /**
   * true: a backend failure (E_TIMEOUT, E_REDIS_UNAVAILABLE, ...) is thrown as a
   * FinRiskCacheError instead of answering null for the keys it concerned, so that the caller can
   * tell a miss from a failed read; it is reported as an `error` event all the same.
   * @default false (misses), or true everywhere in strict mode
   */
  throwOnFailure?: boolean;
}

/** Options of {@link Cache.setMany}: those of every entry, and the deadline of each round trip. */
export interface SetManyOptions extends SetOptions {
  /**
   * Deadline of each round trip this call makes, in ms, at most {@link MAX_TIMEOUT_MS} (see
   * {@link GetManyOptions.timeoutMs}).
   * @default `commandTimeoutMs` plus 1 ms per 64 KiB written
   */
  timeoutMs?: number;
}

/** One entry of {@link Cache.setMany}. */
export interface SetManyEntry<T = unknown> extends SetOptions {
  key: KeyInput;
  value: T;
}

/**
 * What an operation on many keys did ({@link Cache.deleteMany}, {@link Cache.deleteByPrefix},
 * {@link Cache.countByPrefix}): a count alone would read 0 both for "nothing matched" and "the
 * backend failed".
 */
export interface BulkResult {
  /** Keys deleted (or, for a count, found) before the operation ended. */
  count: number;
  /** False when the backend failed part way: `count` is then what was done before the failure. */
  complete: boolean;
  /** Why the operation is not complete. */
  error?: FinRiskCacheError;
}

/**
 * Values a package built on a cache keeps in its L1 tier beside an entry (cache-frames keeps a
 * decoded table beside the table's manifest). They go when the entry goes: when anyone changes
 * the key, when L1 evicts it or it expires, when tracking is lost.
 */
export interface LocalAttachments {
  /** The value kept under `tag` beside `key`'s entry, or undefined. */
  get(key: CacheKey, tag: string): unknown;
  /**
   * Keeps `value` under `tag` beside `key`'s entry, counted as `bytes` against the L1 size and
   * the per-entry cap. False when nothing was kept (the entry is not in L1, or it would be too big).
   */
  set(key: CacheKey, tag: string, value: unknown, bytes: number): boolean;
}

/** Options of {@link Cache.deleteByPrefix} and {@link Cache.countByPrefix}. */
export interface PrefixOptions {
  /** Only keys (full keys, prefix included) for which this returns true. @default every key under the prefix */
  match?: (key: string) => boolean;
}

/** Something to tell a service about, passed to `error` listeners. */
export interface CacheErrorEvent {
  error: FinRiskCacheError;
  /** The operation that failed, e.g. `get`. */
  operation: string;
  /** The kind of entry involved, when there is one. */
  kind?: string;
  /** The key involved, when there is one. */
  key?: string;
}

/** One finished store operation. */
export interface OperationEvent {
  /** e.g. `get`, `setMany`. */
  operation: string;
  /** The kind of entry (for a batch, the kind of its first application key). */
  kind: string;
  /** Time in the store, in ms (decoding excluded). */
  durationMs: number;
  /** False when the backend failed. */
  ok: boolean;
}

/** Events of a cache and their payloads. */
export interface CacheEvents {
  /** A backend failure or a payload that could not be decoded. */
  error: (event: CacheErrorEvent) => void;
  /** The cache stopped being healthy (Redis went away, commands time out, or a fallback store is in use). */
  degraded: (event: { error: FinRiskCacheError; backend: string }) => void;
  /** The cache is healthy again. */
  recovered: (event: { backend: string; downForMs: number }) => void;
  /** Every store operation, when it ends (for metrics adapters; costs nothing without listeners). */
  operation: (event: OperationEvent) => void;
}

/** Where a cache writes its few messages. @default warnings to stderr, nothing else */
export interface CacheLogger {
  warn(message: string): void;
  error?(message: string): void;
  debug?(message: string): void;
}

/** Options of {@link createCache}: the configuration plus runtime hooks. */
export interface CreateCacheOptions extends CacheOptions {
  /** Receives the fallback warning and, if it has `error`, every error event. */
  logger?: CacheLogger;
  /** An already built store to use instead of the configured backend (tests, custom stores). */
  store?: CacheStore;
}

/** Result of {@link Cache.checkConnection}. */
export interface ConnectionCheck {
  /** True when the configured backend answered. */
  ok: boolean;
  /** The backend that was checked. */
  backend: 'redis' | 'local' | 'memory';
  /** Masked address or file path. */
  address: string;
  /** Round trip in ms, when it answered. */
  latencyMs?: number;
  /** Why it did not answer. */
  error?: string;
  /** The error's code. */
  code?: CacheErrorCode;
}
