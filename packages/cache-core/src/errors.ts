const BRAND = Symbol.for('@finrisk/cache-core.FinRiskCacheError');

/** Stable error codes; the CLI maps them to exit statuses and services may switch on them. */
export type CacheErrorCode =
  /** Redis could not be reached, or the connection dropped. */
  | 'E_REDIS_UNAVAILABLE'
  /** A command did not answer within `commandTimeoutMs`. */
  | 'E_TIMEOUT'
  /** Redis answered with an error (out of memory, permissions, wrong type, ...). */
  | 'E_REDIS_COMMAND'
  /** A configuration value (environment variable or option) is invalid. */
  | 'E_INVALID_CONFIG'
  /** A key or id given by the caller is empty, too long or contains control characters. */
  | 'E_INVALID_KEY'
  /** A value cannot be stored (a function, a symbol, a circular structure, a class not registered). */
  | 'E_INVALID_VALUE'
  /** A value is larger than `maxValueBytes`. */
  | 'E_PAYLOAD_TOO_LARGE'
  /** A stored payload does not decode: truncated, tampered with, or not written by this SDK. */
  | 'E_PAYLOAD_CORRUPT'
  /** A stored payload was written by a newer format version than this SDK reads. */
  | 'E_PAYLOAD_UNSUPPORTED'
  /** A value failed the caller's schema on write or on read. */
  | 'E_SCHEMA'
  /** Something a feature needs is missing: the local store on a Node.js without node:sqlite (before 22.13). */
  | 'E_DEPENDENCY_MISSING'
  /** The embedded local store failed (locked, read-only or full disk, damaged file). */
  | 'E_LOCAL_STORE'
  /** A caller's compute function (read-through) failed; the original error is the cause. */
  | 'E_COMPUTE'
  /** A file given by the caller is missing, unreadable or malformed (frames, CLI). */
  | 'E_FILE'
  /** The cache was closed with `close()` and cannot serve more calls. */
  | 'E_CLOSED'
  /** Anything else: a bug or an unexpected failure. */
  | 'E_INTERNAL';

/** Options of {@link FinRiskCacheError}. */
export interface FinRiskCacheErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
}

/**
 * The base error of every @finrisk package. `code` is stable across versions; `message` says
 * what went wrong and what to do.
 */
export class FinRiskCacheError extends Error {
  override readonly name: string = 'FinRiskCacheError';
  readonly code: CacheErrorCode;
  private readonly [BRAND] = true;

  constructor(code: CacheErrorCode, message: string, options: FinRiskCacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** True for a FinRiskCacheError from any installed copy of this package (`instanceof` is not). */
  static isInstance(error: unknown): error is FinRiskCacheError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }

  /** True when `error` is a FinRiskCacheError with the given code. */
  static hasCode(error: unknown, code: CacheErrorCode): error is FinRiskCacheError {
    return FinRiskCacheError.isInstance(error) && error.code === code;
  }
}

/** Wraps any thrown value as a FinRiskCacheError, keeping one that already is. */
export function toCacheError(error: unknown, code: CacheErrorCode, message: string): FinRiskCacheError {
  if (FinRiskCacheError.isInstance(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new FinRiskCacheError(code, `${message}: ${detail}`, { cause: error });
}
