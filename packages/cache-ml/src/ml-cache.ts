import { TypedEmitter, type BulkResult, type Cache } from '@finrisk/cache-core';
import { Artifacts } from './artifacts.js';
import { Features, type FeaturesEntry } from './features.js';
import { createLayout } from './ml-layout.js';
import type { MlKeys } from './ml-keys.js';
import type {
  ClearOptions,
  FeatureEntry,
  MlCacheErrorEvent,
  MlCacheOptions,
  MlCacheStats,
  PredictionEntry,
  PredictionReadOptions,
  PredictionReadThroughOptions,
  PredictionWriteOptions,
  FeatureReadOptions,
  ReadOptions,
  ReadThroughOptions,
  SchemaWriteOptions,
  WriteOptions,
} from './options.js';
import { Predictions } from './predictions.js';
import { ReadThrough, resolveLock } from './read-through.js';
import { EntryCodec, graceNeedsEnvelope, type CachedEntry } from './stored-entry.js';
import { checkGrace } from './value-checks.js';

// The API in one place, each method a delegate: the work is in predictions.ts, features.ts and
// artifacts.ts; what differs between the key layouts is in ml-layout.ts (chosen once, here).
/**
 * Predictions, features and model artifacts on one {@link Cache}. Reads answer null on a miss
 * and writes answer false when the backend failed (like the guide); invalid input throws a
 * FinRiskCacheError. Make one with {@link createMlCache}; the free functions use one made on
 * `getCache()`.
 *
 * `P` and `F` type predictions and features; each method also takes its own type parameter
 * (and schema) for services whose model types return different shapes.
 */
export class MlCache<P extends object = Record<string, unknown>, F extends object = Record<string, unknown>> {
  /** The cache underneath (its `error` event reports backend failures). */
  readonly cache: Cache;
  /** The keys this object reads and writes. */
  readonly keys: MlKeys;
  readonly #readThrough: ReadThrough;
  readonly #predictions: Predictions<P>;
  readonly #features: Features<F>;
  readonly #artifacts: Artifacts;
  readonly #events = new TypedEmitter<{ error: (event: MlCacheErrorEvent) => void }>(['error']);

  constructor(cache: Cache, options: MlCacheOptions<P, F> = {}) {
    this.cache = cache;
    const grace = checkGrace(options.grace);
    const report = (event: MlCacheErrorEvent) => this.#emit(event);
    const entries = new EntryCodec(cache, grace, report);
    const layout = createLayout(cache, options.keyLayout ?? cache.config.keyLayout, entries, options.generationRefreshMs ?? 1000);
    this.keys = layout.keys;
    if (grace > 0 && !layout.supportsGrace) throw graceNeedsEnvelope();
    this.#readThrough = new ReadThrough(cache, layout.keys, report, resolveLock(options.lock));
    this.#predictions = new Predictions(cache, layout, entries, this.#readThrough, options.predictionSchema);
    this.#features = new Features(cache, layout.keys, entries, this.#readThrough, options.featureSchema);
    this.#artifacts = new Artifacts(cache, layout.keys, entries, this.#readThrough);
  }

  // ---------------------------------------------------------------- events and stats

  /**
   * Listens to problems cache-ml met without throwing: a cached value that failed its schema or
   * is not in cache-ml's format (a miss), a failed background refresh. Returns an unsubscribe
   * function. Backend failures are reported by `cache.on('error')`, which also hears these.
   */
  on(event: 'error', listener: (event: MlCacheErrorEvent) => void): () => void {
    return this.#events.on(event, listener);
  }

  #emit(event: MlCacheErrorEvent): void {
    // Also to the cache's own listeners (and its error counts), so that a service watching
    // `cache.on('error')` and the metrics adapters see schema failures and failed refreshes too.
    this.cache.reportError(event);
    this.#events.emit('error', event);
  }

  /** This process's read-through counters (a copy). */
  stats(): MlCacheStats {
    return { ...this.#readThrough.stats };
  }

  /** Resolves when every background refresh started so far has finished; call it before closing the cache. */
  drain(): Promise<void> {
    return this.#readThrough.drain();
  }

  // ---------------------------------------------------------------- predictions

  /**
   * Caches a model's prediction for a customer (the guide's `cache_model_prediction`). The
   * prediction is a plain object; its model version is kept with it. True when stored, false
   * when the backend failed. Throws E_INVALID_KEY, E_INVALID_VALUE, E_SCHEMA, E_PAYLOAD_TOO_LARGE.
   * @default ttl `CACHE_PREDICTION_TTL` (3600 s)
   */
  cacheModelPrediction<T extends object = P>(customerId: string, modelType: string, prediction: T, options?: PredictionWriteOptions<T>): Promise<boolean> {
    return this.#predictions.cache(customerId, modelType, prediction, options);
  }

  /**
   * A customer's cached prediction by a model (the guide's `get_cached_prediction`): the value,
   * or null when missing, expired, written before the model was invalidated, of another
   * `modelVersion`, failing the schema, or when the backend failed. One round trip.
   */
  getCachedPrediction<T extends object = P>(customerId: string, modelType: string, options?: PredictionReadOptions<T>): Promise<T | null> {
    return this.#predictions.get(customerId, modelType, options);
  }

  /** Like {@link MlCache.getCachedPrediction}, with the model version, the write time, and stale values of a grace period. */
  getCachedPredictionEntry<T extends object = P>(customerId: string, modelType: string, options?: PredictionReadOptions<T>): Promise<CachedEntry<T> | null> {
    return this.#predictions.getEntry(customerId, modelType, options);
  }

  /** Many customers' predictions by one model in one round trip (one MGET); values in the order of `customerIds`, null for misses. */
  getCachedPredictions<T extends object = P>(customerIds: readonly string[], modelType: string, options?: PredictionReadOptions<T>): Promise<(T | null)[]> {
    return this.#predictions.getMany(customerIds, modelType, options);
  }

  /**
   * Caches many predictions in one round trip (a pipeline of SETs). Every entry is validated
   * before anything is written. True when all were stored. `options.ttl` is the default of
   * entries without their own.
   */
  cachePredictionsMany<T extends object = P>(entries: readonly PredictionEntry<T>[], options?: SchemaWriteOptions<T>): Promise<boolean> {
    return this.#predictions.cacheMany(entries, options);
  }

  /**
   * The guide's prediction caching pattern as one call: the cached prediction, or `compute()`'s,
   * cached before it is returned. Concurrent callers in this process share one compute; with
   * `lock`, so do other processes; with `grace`, a stale value is served while one caller
   * refreshes it. A compute that throws is not cached and its error is thrown.
   */
  getOrComputePrediction<T extends object = P>(customerId: string, modelType: string, compute: () => T | Promise<T>, options?: PredictionReadThroughOptions<T>): Promise<T> {
    return this.#predictions.getOrCompute(customerId, modelType, compute, options);
  }

  /**
   * Makes every cached prediction of a model type a miss, for a redeploy. `finrisk` layout: one
   * write of a new generation token, no scan; the old entries expire by their TTL.
   * `finrisk-python` layout: deletes `prediction:{modelType}:*` with SCAN and UNLINK, because the
   * Python service does not know generations. True when done, false when the backend failed.
   */
  invalidateModelPredictions(modelType: string): Promise<boolean> {
    return this.#predictions.invalidate(modelType);
  }

  /**
   * Deletes cached predictions: one customer's, of every model (exactly that customer: the id is
   * literal, so `*` is only the customer named `*`), or every customer's. Uses SCAN and UNLINK,
   * never KEYS. Says how many keys were deleted (with `dryRun`: would be) and whether the walk
   * was complete (`complete: false` when the backend failed part way).
   */
  clearPredictionCache(customerId?: string, options?: ClearOptions): Promise<BulkResult> {
    return this.#predictions.clear(customerId, options);
  }

  // ---------------------------------------------------------------- features

  /**
   * Caches a customer's features (the guide's `cache_features`): a plain object; NaN, typed
   * arrays and dates round-trip exactly in the `finrisk` layout. True when stored.
   * @default ttl `CACHE_FEATURE_TTL` (1800 s)
   */
  cacheFeatures<T extends object = F>(customerId: string, features: T, options?: SchemaWriteOptions<T>): Promise<boolean> {
    return this.#features.cache(customerId, features, options);
  }

  /**
   * A customer's cached features (the guide's `get_cached_features`), or null. One round trip.
   * With `only`, just those features (the others never leave Redis in the `finrisk` layout).
   * A feature past its own TTL (see {@link MlCache.updateFeatures}) is missing from the answer.
   */
  getCachedFeatures<T extends object = F>(customerId: string, options?: FeatureReadOptions<T>): Promise<T | null> {
    return this.#features.get(customerId, options);
  }

  /** Like {@link MlCache.getCachedFeatures}, with the write time (the oldest feature's, and each feature's) and stale values of a grace period. */
  getCachedFeaturesEntry<T extends object = F>(customerId: string, options?: FeatureReadOptions<T>): Promise<FeaturesEntry<T> | null> {
    return this.#features.getEntry(customerId, options);
  }

  /** Many customers' features in one round trip, in the order of `customerIds`; `only` as in {@link MlCache.getCachedFeatures}. */
  getCachedFeaturesMany<T extends object = F>(customerIds: readonly string[], options?: FeatureReadOptions<T>): Promise<(T | null)[]> {
    return this.#features.getMany(customerIds, options);
  }

  /**
   * Updates some of a customer's features, atomically, leaving the others as they are: updaters
   * of different features, in any process, never lose each other's writes. `finrisk` layout: one
   * hash field per feature, each with its own write time and TTL (`ttl`: after it that feature
   * reads as missing while the others stay; the customer's key lives at least as long). Python
   * service's layout: a merge into its JSON value on the server (no TTL per feature there; the
   * key lives at least `ttl`). No schema check (a schema describes whole vectors). True when
   * stored, false when the backend failed.
   * @default ttl `CACHE_FEATURE_TTL` (1800 s)
   */
  updateFeatures<T extends object = F>(customerId: string, partial: Partial<T>, options?: WriteOptions): Promise<boolean> {
    return this.#features.update(customerId, partial, options);
  }

  /** Caches many customers' features in one round trip (a pipeline); every entry is validated first. True when all were stored. */
  cacheFeaturesMany<T extends object = F>(entries: readonly FeatureEntry<T>[], options?: SchemaWriteOptions<T>): Promise<boolean> {
    return this.#features.cacheMany(entries, options);
  }

  /** The guide's feature caching pattern as one call; same guarantees as {@link MlCache.getOrComputePrediction}. */
  getOrComputeFeatures<T extends object = F>(customerId: string, compute: () => T | Promise<T>, options?: ReadThroughOptions<T>): Promise<T> {
    return this.#features.getOrCompute(customerId, compute, options);
  }

  /**
   * Deletes one customer's features (exactly that id), or every customer's (SCAN and UNLINK). Says
   * how many keys were deleted (with `dryRun`: would be) and whether it was complete.
   */
  clearFeatureCache(customerId?: string, options?: ClearOptions): Promise<BulkResult> {
    return this.#features.clear(customerId, options);
  }

  // ---------------------------------------------------------------- artifacts

  /**
   * Caches one version of a model's artifacts (the guide's `cache_model_artifacts`): JSON-like
   * data, typed arrays, Map, Set, Date and instances of classes registered with
   * {@link registerArtifactClass}. Large values are compressed. `ttl: null` keeps them until
   * deleted (the guide's best practice). True when stored.
   * @default ttl `CACHE_MODEL_TTL` (86400 s)
   */
  cacheModelArtifacts<A = unknown>(modelName: string, version: string, artifacts: A, options?: SchemaWriteOptions<A>): Promise<boolean> {
    return this.#artifacts.cache(modelName, version, artifacts, options);
  }

  /** One version of a model's artifacts (the guide's `get_cached_model_artifacts`), or null. */
  getCachedModelArtifacts<A = unknown>(modelName: string, version: string, options?: ReadOptions<A>): Promise<A | null> {
    return this.#artifacts.get(modelName, version, options);
  }

  /** The guide's model artifacts pattern as one call (load from storage on a miss); same guarantees as {@link MlCache.getOrComputePrediction}. */
  getOrComputeModelArtifacts<A = unknown>(modelName: string, version: string, compute: () => A | Promise<A>, options?: ReadThroughOptions<A>): Promise<A> {
    return this.#artifacts.getOrCompute(modelName, version, compute, options);
  }

  /**
   * Deletes every version of one model's artifacts, or every model's (SCAN and UNLINK). Says how
   * many keys were deleted (with `dryRun`: would be) and whether it was complete.
   */
  clearModelCache(modelName?: string, options?: ClearOptions): Promise<BulkResult> {
    return this.#artifacts.clear(modelName, options);
  }
}

/**
 * Creates the predictions / features / artifacts API on a cache, for services that hold several
 * caches (the free functions use one made on `getCache()`). Throws E_INVALID_CONFIG for grace
 * with the finrisk-python layout.
 */
export function createMlCache<P extends object = Record<string, unknown>, F extends object = Record<string, unknown>>(
  cache: Cache,
  options: MlCacheOptions<P, F> = {},
): MlCache<P, F> {
  return new MlCache<P, F>(cache, options);
}
