import type { CacheErrorEvent, KeyLayout } from '@finrisk/cache-core';
import type { Schema } from './schema.js';

/** The cross-process read-through lock. */
export interface LockOptions {
  /** How long a lock lives if its owner dies before releasing it, in ms. @default 10000 */
  ttlMs?: number;
  /** How long a caller that did not get the lock waits for the owner's value before computing itself, in ms. @default 5000 */
  waitMs?: number;
  /** How often a waiting caller looks for the value (and retries the lock), in ms. @default 50 */
  pollMs?: number;
}

/** Options of {@link createMlCache}. Every option has a per-call counterpart that wins over it. */
export interface MlCacheOptions<P extends object = Record<string, unknown>, F extends object = Record<string, unknown>> {
  /** Key layout of predictions and features. @default the cache's `keyLayout` (`CACHE_KEY_LAYOUT`, 'finrisk') */
  keyLayout?: KeyLayout;
  /** Checked on every prediction write (E_SCHEMA) and read (a failure is a miss and an error event). @default none */
  predictionSchema?: Schema<P>;
  /** Checked on every features write and read, like `predictionSchema`. @default none */
  featureSchema?: Schema<F>;
  /**
   * Seconds a value is kept after its TTL so that read-through can serve it stale while one
   * caller refreshes it, and when the refresh fails. Plain reads treat a stale value as a miss.
   * Not available with the finrisk-python layout (plain JSON has no room for the expiry). @default 0
   */
  grace?: number;
  /** Cross-process read-through lock: true for the defaults, or its settings. @default false */
  lock?: boolean | LockOptions;
  /**
   * How long a write may reuse the generation token this process last saw, in ms, instead of
   * reading it again. A write made with an outdated token is only ever a miss later, never a
   * stale hit. @default 1000
   */
  generationRefreshMs?: number;
}

/** Options of the clear functions. */
export interface ClearOptions {
  /** Count what would be deleted and delete nothing. @default false */
  dryRun?: boolean;
}

/** Options of a single write. */
export interface WriteOptions {
  /** Seconds to live; `null` keeps the value until it is deleted. @default the configured TTL of the kind */
  ttl?: number | null;
  /** Seconds to keep the value stale after `ttl` (see {@link MlCacheOptions.grace}). @default the cache-ml option */
  grace?: number;
}

/** Options of a schema-checked write. */
export interface SchemaWriteOptions<T> extends WriteOptions {
  /** Checked before writing; E_SCHEMA when it fails. @default the cache-ml schema of the kind */
  schema?: Schema<T>;
}

/** Options of a prediction write. */
export interface PredictionWriteOptions<T> extends SchemaWriteOptions<T> {
  /** The model version that made the prediction. @default the prediction's `model_version` or `modelVersion` field */
  modelVersion?: string;
}

/** Options of a read. */
export interface ReadOptions<T> {
  /** Checked on the cached value; a failure is a miss and an error event. @default the cache-ml schema of the kind */
  schema?: Schema<T>;
}

/** Options of a features read. */
export interface FeatureReadOptions<T> extends ReadOptions<T> {
  /**
   * Read only these features: the answer holds those found, and is null when none is. In the
   * `finrisk` layout only they leave Redis (HMGET); the Python service's single JSON value is
   * read whole and cut here. The schema is not checked on a part of a vector. @default all features
   */
  only?: readonly string[];
}

/** Options of a prediction read. */
export interface PredictionReadOptions<T> extends ReadOptions<T> {
  /** Only a prediction made by this model version is a hit. @default any version */
  modelVersion?: string;
}

/** Options of a read-through call. */
export interface ReadThroughOptions<T> extends SchemaWriteOptions<T> {
  /** Per-call lock setting. @default the cache-ml option */
  lock?: boolean | LockOptions;
}

/** Options of a prediction read-through call. */
export interface PredictionReadThroughOptions<T> extends ReadThroughOptions<T> {
  /** Only a prediction of this model version is a hit, and the computed one is written with it. @default any version */
  modelVersion?: string;
}

/** One entry of {@link MlCache.cachePredictionsMany}. */
export interface PredictionEntry<T> {
  customerId: string;
  modelType: string;
  prediction: T;
  /** @default the batch's ttl */
  ttl?: number | null;
  /** @default the prediction's `model_version` / `modelVersion` field */
  modelVersion?: string;
}

/** One entry of {@link MlCache.cacheFeaturesMany}. */
export interface FeatureEntry<T> {
  customerId: string;
  features: T;
  /** @default the batch's ttl */
  ttl?: number | null;
}

/** A problem cache-ml met and did not throw: a cached value that failed its schema or had a foreign shape, a failed background refresh, a compute failure answered with a stale value. Backend failures are reported by the underlying Cache's own `error` event. */
export type MlCacheErrorEvent = CacheErrorEvent;

/** Counters of this process's read-through activity, since the MlCache was created. */
export interface MlCacheStats {
  /** Times a compute function was called. */
  computes: number;
  /** Callers that joined a compute already running in this process. */
  singleFlightJoins: number;
  /** Cross-process locks taken. */
  locksAcquired: number;
  /** Times a caller found the lock taken and waited for another process's value. */
  lockWaits: number;
  /** Waits that ended without a value, after which the caller computed itself. */
  lockWaitTimeouts: number;
  /** Stale values served during a grace period. */
  staleServed: number;
  /** Background refreshes started for stale values. */
  refreshes: number;
  /** Computes that threw (refreshes included). */
  computeFailures: number;
}
