import { FinRiskCacheError, TypedEmitter, type BulkResult, type Cache, type CacheKey, type KeyLayout, type SetManyEntry } from '@finrisk/cache-core';
import { invalidConfig } from './errors.js';
import { GenerationTracker } from './generations.js';
import { MlKeys } from './ml-keys.js';
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
  ReadOptions,
  ReadThroughOptions,
  SchemaWriteOptions,
  WriteOptions,
} from './options.js';
import { ReadThrough, resolveLock, type ReadThroughSlot, type ResolvedLock } from './read-through.js';
import { checkSchemaFast, settleAll, type Schema, type SchemaOutcome } from './schema.js';
import { isStoredEntry, modelVersionOf, type CachedEntry, type StoredEntry } from './stored-entry.js';
import { assertPresent, assertRecord, checkGrace, isPlainObject } from './value-checks.js';

type Kind = 'prediction' | 'feature' | 'model';

/** How to read one payload back. */
interface DecodeRules<T> {
  kind: Kind;
  /** Predictions (`finrisk` layout): the current token; undefined for other kinds. */
  generation?: string | null;
  modelVersion?: string | undefined;
  schema: Schema<T> | undefined;
  operation: string;
  /** The caller keeps only the value and freshness: no Date is built (batch reads of 10,000 entries). */
  valuesOnly?: boolean;
}

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
  readonly #predictionSchema: Schema<P> | undefined;
  readonly #featureSchema: Schema<F> | undefined;
  readonly #grace: number;
  readonly #lock: ResolvedLock | null;
  readonly #generations: GenerationTracker;
  readonly #readThrough: ReadThrough;
  readonly #events = new TypedEmitter<{ error: (event: MlCacheErrorEvent) => void }>(['error']);

  constructor(cache: Cache, options: MlCacheOptions<P, F> = {}) {
    this.cache = cache;
    const layout: KeyLayout = options.keyLayout ?? cache.config.keyLayout;
    this.keys = new MlKeys(cache, layout);
    this.#predictionSchema = options.predictionSchema;
    this.#featureSchema = options.featureSchema;
    this.#grace = checkGrace(options.grace);
    if (this.#grace > 0 && this.keys.isPython) {
      throw invalidConfig('grace needs the finrisk key layout: the finrisk-python layout stores plain JSON with no room for the fresh-until time');
    }
    this.#lock = resolveLock(options.lock);
    this.#generations = new GenerationTracker(cache, this.keys, options.generationRefreshMs ?? 1000);
    this.#readThrough = new ReadThrough(cache, this.keys, (event) => this.#emit(event));
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

  // ---------------------------------------------------------------- shared plumbing

  /** Physical TTL in seconds (null: none) and fresh-until time of a write. */
  #expiry(kind: Kind, options: WriteOptions): { ttl: number | null; freshUntil: number | undefined } {
    const ttlMs = this.cache.ttlMs(kind, options.ttl);
    const grace = checkGrace(options.grace ?? this.#grace);
    if (grace > 0 && this.keys.isPython && kind !== 'model') {
      throw invalidConfig('grace needs the finrisk key layout: the finrisk-python layout stores plain JSON with no room for the fresh-until time');
    }
    if (ttlMs === undefined) return { ttl: null, freshUntil: undefined };
    if (grace === 0) return { ttl: ttlMs / 1000, freshUntil: undefined };
    return { ttl: (ttlMs + grace * 1000) / 1000, freshUntil: Date.now() + ttlMs };
  }

  /** The bytes-level write of one entry: the envelope record, or (finrisk-python) the plain value. */
  #writeEntry(key: CacheKey, kind: Kind, value: unknown, options: WriteOptions, extra: Pick<StoredEntry<unknown>, 'generation' | 'modelVersion'> = {}): SetManyEntry {
    const { ttl, freshUntil } = this.#expiry(kind, options);
    if (key.format === 'json') return { key, value, ttl };
    const record: StoredEntry<unknown> = { value, cachedAt: Date.now() };
    if (freshUntil !== undefined) record.freshUntil = freshUntil;
    if (extra.generation !== undefined) record.generation = extra.generation;
    if (extra.modelVersion !== undefined) record.modelVersion = extra.modelVersion;
    return { key, value: record, ttl };
  }

  /** Throws the schema's error for a value about to be written; a promise only for an async schema. */
  #checkWrite<T>(schema: Schema<T> | undefined, value: T, what: string): void | Promise<void> {
    const outcome = checkSchemaFast(schema, value, what);
    if (outcome instanceof Promise) {
      return outcome.then((o) => {
        if (!o.ok) throw o.error;
      });
    }
    if (!outcome.ok) throw outcome.error;
  }

  #reportBadPayload(rules: DecodeRules<unknown>, key: CacheKey, message: string, code: 'E_PAYLOAD_CORRUPT' | 'E_SCHEMA' = 'E_PAYLOAD_CORRUPT'): null {
    this.#emit({ error: new FinRiskCacheError(code, message), operation: rules.operation, kind: rules.kind, key: key.key });
    return null;
  }

  /** Turns a decoded payload into an entry; null (and maybe an error event) for a miss. */
  #decode<T>(key: CacheKey, raw: unknown, rules: DecodeRules<T>): CachedEntry<T> | null | Promise<CachedEntry<T> | null> {
    if (raw === null || raw === undefined) return null;
    let value: unknown;
    let cachedAt: Date | null = null;
    let isStale = false;
    let modelVersion: string | undefined;
    if (key.format === 'json') {
      if (!isPlainObject(raw)) return this.#reportBadPayload(rules, key, `value at ${key.key} is not a JSON object; treated as a miss`);
      value = raw;
      modelVersion = modelVersionOf(raw);
    } else {
      if (!isStoredEntry(raw)) {
        return this.#reportBadPayload(rules, key, `value at ${key.key} was not written by @finrisk/cache-ml; treated as a miss`);
      }
      // A prediction written under another generation (or none) belongs to an invalidated model.
      if (rules.generation !== undefined && (rules.generation === null || raw.generation !== rules.generation)) return null;
      value = raw.value;
      cachedAt = rules.valuesOnly ? null : new Date(raw.cachedAt);
      isStale = raw.freshUntil !== undefined && Date.now() >= raw.freshUntil;
      modelVersion = raw.modelVersion;
    }
    if (rules.modelVersion !== undefined && modelVersion !== rules.modelVersion) return null;
    if (rules.schema === undefined) {
      const entry: CachedEntry<T> = { value: value as T, cachedAt, isStale };
      if (modelVersion !== undefined) entry.modelVersion = modelVersion;
      return entry;
    }
    const finish = (outcome: SchemaOutcome<T>): CachedEntry<T> | null => {
      if (!outcome.ok) return this.#reportBadPayload(rules, key, `${outcome.error.message}; treated as a miss`, 'E_SCHEMA');
      const entry: CachedEntry<T> = { value: outcome.value, cachedAt, isStale };
      if (modelVersion !== undefined) entry.modelVersion = modelVersion;
      return entry;
    };
    const outcome = checkSchemaFast(rules.schema, value, `cached ${rules.kind} at ${key.key}`);
    return outcome instanceof Promise ? outcome.then(finish) : finish(outcome);
  }

  static #fresh<T>(entry: CachedEntry<T> | null): T | null {
    return entry && !entry.isStale ? entry.value : null;
  }

  // ---------------------------------------------------------------- predictions

  #predictionSchemaOf<T extends object>(schema: Schema<T> | undefined): Schema<T> | undefined {
    return schema ?? (this.#predictionSchema as Schema<T> | undefined);
  }

  /** Validates a prediction and builds its write; `generation` is the token to write under (finrisk layout). */
  async #preparePrediction<T extends object>(
    customerId: string,
    modelType: string,
    prediction: T,
    options: PredictionWriteOptions<T>,
  ): Promise<{ key: CacheKey; value: T; modelVersion: string | undefined }> {
    const key = this.keys.prediction(customerId, modelType);
    assertRecord(prediction, 'prediction');
    const checked = this.#checkWrite(this.#predictionSchemaOf(options.schema), prediction, 'prediction');
    if (checked) await checked;
    const modelVersion = options.modelVersion ?? modelVersionOf(prediction);
    let value = prediction;
    // The Python service keeps the version inside the prediction; there is nowhere else to put it.
    if (this.keys.isPython && options.modelVersion !== undefined && modelVersionOf(prediction) !== options.modelVersion) {
      value = { ...prediction, model_version: options.modelVersion };
    }
    return { key, value, modelVersion };
  }

  #predictionWrite(prepared: { key: CacheKey; value: unknown; modelVersion: string | undefined }, generation: string | null, options: WriteOptions): SetManyEntry {
    const extra: Pick<StoredEntry<unknown>, 'generation' | 'modelVersion'> = {};
    if (generation !== null) extra.generation = generation;
    if (prepared.modelVersion !== undefined) extra.modelVersion = prepared.modelVersion;
    return this.#writeEntry(prepared.key, 'prediction', prepared.value, options, extra);
  }

  /**
   * Caches a model's prediction for a customer (the guide's `cache_model_prediction`). The
   * prediction is a plain object; its model version is kept with it. True when stored, false
   * when the backend failed. Throws E_INVALID_KEY, E_INVALID_VALUE, E_SCHEMA, E_PAYLOAD_TOO_LARGE.
   * @default ttl `CACHE_PREDICTION_TTL` (3600 s)
   */
  async cacheModelPrediction<T extends object = P>(customerId: string, modelType: string, prediction: T, options: PredictionWriteOptions<T> = {}): Promise<boolean> {
    const prepared = await this.#preparePrediction(customerId, modelType, prediction, options);
    return this.#writePredictions([{ prepared, modelType, options }]);
  }

  /**
   * Writes predictions, each under its model's current generation token (`finrisk` layout). In the
   * same round trip it reads each token back: a token that vanished (FLUSHALL, an operator's DEL,
   * an eviction, a failover that lost it) would make the predictions just written unreadable, so
   * the token is read again (created when missing) and those predictions written again under it.
   * On one server or a Sentinel master the read follows the write on one connection, so a token
   * gone before the write is always seen; on a cluster the two run on different masters, a few
   * microseconds apart. A token that changed to another value is a deploy (invalidateModelPredictions):
   * what was just written belongs to the model before it, and stays unreadable.
   */
  async #writePredictions(items: { prepared: { key: CacheKey; value: unknown; modelVersion: string | undefined }; modelType: string; options: WriteOptions }[], seen?: string | null): Promise<boolean> {
    const write = (generation: (modelType: string) => string | null) => {
      const writes = items.map((i) => this.#predictionWrite(i.prepared, generation(i.modelType), i.options));
      return writes.length === 1
        ? this.cache.set(writes[0]!.key, writes[0]!.value, { ttl: writes[0]!.ttl ?? null })
        : this.cache.setMany(writes.map((w) => ({ key: w.key, value: w.value, ttl: w.ttl ?? null })));
    };
    if (this.keys.isPython) return write(() => null);
    const models = [...new Set(items.map((i) => i.modelType))];
    const generations = new Map<string, string>();
    for (const model of models) {
      const token = (models.length === 1 ? seen : undefined) ?? this.#generations.recent(model) ?? (await this.#generations.current(model));
      if (token === null) return false;
      generations.set(model, token);
    }
    for (let attempt = 0; ; attempt++) {
      // The write, then the tokens read back (bypassing L1, which may not have heard of a change yet).
      const [stored, tokens] = await Promise.all([
        write((model) => generations.get(model)!),
        this.cache.getMany<string>(models.map((m) => ({ ...this.keys.generation(m), local: false }))),
      ]);
      if (!stored) return false;
      const vanished = models.filter((m, i) => {
        if (tokens[i] === generations.get(m)) return false;
        this.#generations.forget(m);
        return tokens[i] === null;
      });
      if (vanished.length === 0) return true;
      if (attempt === 1) return false; // the token vanished twice in a row: nothing readable was stored
      items = items.filter((i) => vanished.includes(i.modelType));
      for (const model of vanished) {
        const token = await this.#generations.current(model);
        if (token === null) return false;
        generations.set(model, token);
      }
    }
  }

  #predictionRules<T extends object>(options: PredictionReadOptions<T>, operation: string, valuesOnly: boolean): DecodeRules<T> {
    return { kind: 'prediction', modelVersion: options.modelVersion, schema: this.#predictionSchemaOf(options.schema), operation, valuesOnly };
  }

  async #readPredictions<T extends object>(
    customerIds: readonly string[],
    modelType: string,
    options: PredictionReadOptions<T>,
    operation: string,
    valuesOnly = false,
  ): Promise<{ entries: (CachedEntry<T> | null)[]; generation: string | null }> {
    const keys = customerIds.map((id) => this.keys.prediction(id, modelType));
    const rules = this.#predictionRules(options, operation, valuesOnly);
    if (this.keys.isPython) {
      const raws = await this.cache.getMany<unknown>(keys);
      return { entries: await settleAll(keys.map((key, i) => this.#decode(key, raws[i], rules))), generation: null };
    }
    // The token and the predictions in one MGET: invalidation costs reads nothing extra.
    const [token, ...raws] = await this.cache.getMany<unknown>([this.keys.generation(modelType), ...keys]);
    const generation = this.#generations.observe(modelType, token);
    rules.generation = generation;
    return { entries: await settleAll(keys.map((key, i) => this.#decode(key, raws[i], rules))), generation };
  }

  /**
   * One customer's prediction: {@link MlCache.#readPredictions} without the arrays, because
   * it is the call a scoring service makes per request (same MGET of token and prediction).
   */
  async #readPrediction<T extends object>(
    customerId: string,
    modelType: string,
    options: PredictionReadOptions<T>,
    operation: string,
    valuesOnly = false,
  ): Promise<{ entry: CachedEntry<T> | null; generation: string | null }> {
    const key = this.keys.prediction(customerId, modelType);
    const rules = this.#predictionRules(options, operation, valuesOnly);
    if (this.keys.isPython) return { entry: await this.#decode(key, await this.cache.get<unknown>(key), rules), generation: null };
    const pair = await this.cache.getMany<unknown>([this.keys.generation(modelType), key]);
    const generation = this.#generations.observe(modelType, pair[0]);
    rules.generation = generation;
    const entry = this.#decode(key, pair[1], rules);
    return { entry: entry instanceof Promise ? await entry : entry, generation };
  }

  /**
   * A customer's cached prediction by a model (the guide's `get_cached_prediction`): the value,
   * or null when missing, expired, written before the model was invalidated, of another
   * `modelVersion`, failing the schema, or when the backend failed. One round trip.
   */
  async getCachedPrediction<T extends object = P>(customerId: string, modelType: string, options: PredictionReadOptions<T> = {}): Promise<T | null> {
    const hot = this.#hotPrediction<T>(customerId, modelType, options);
    if (hot !== undefined) return hot;
    const { entry } = await this.#readPrediction(customerId, modelType, options, 'getCachedPrediction', true);
    return MlCache.#fresh(entry);
  }

  /**
   * A prediction whose token and record are both in the cache's L1 tier, answered without a
   * round trip, a promise of its own or any object per read (the call a scoring service makes
   * most); undefined when either is not held, or the read needs the general path (a schema, a
   * model version to match, the Python layout), which then reads it.
   */
  #hotPrediction<T>(customerId: string, modelType: string, options: PredictionReadOptions<T & object>): T | null | undefined {
    if (this.keys.isPython || options.modelVersion !== undefined || (options.schema ?? this.#predictionSchema) !== undefined) return undefined;
    const token = this.cache.peekLocal(this.keys.generation(modelType));
    if (typeof token !== 'string') return undefined;
    const key = this.keys.prediction(customerId, modelType);
    const raw = this.cache.peekLocal<StoredEntry<T>>(key);
    if (raw === undefined) return undefined;
    this.#generations.observe(modelType, token);
    if (!isStoredEntry(raw)) {
      return this.#reportBadPayload({ kind: 'prediction', schema: undefined, operation: 'getCachedPrediction' }, key, `value at ${key.key} was not written by @finrisk/cache-ml; treated as a miss`);
    }
    // Another generation (an invalidated model), or stale in a grace period: a miss here.
    if (raw.generation !== token || (raw.freshUntil !== undefined && Date.now() >= raw.freshUntil)) return null;
    return raw.value;
  }

  /** Like {@link MlCache.getCachedPrediction}, with the model version, the write time, and stale values of a grace period. */
  async getCachedPredictionEntry<T extends object = P>(customerId: string, modelType: string, options: PredictionReadOptions<T> = {}): Promise<CachedEntry<T> | null> {
    const { entry } = await this.#readPrediction(customerId, modelType, options, 'getCachedPredictionEntry');
    return entry;
  }

  /** Many customers' predictions by one model in one round trip (one MGET); values in the order of `customerIds`, null for misses. */
  async getCachedPredictions<T extends object = P>(customerIds: readonly string[], modelType: string, options: PredictionReadOptions<T> = {}): Promise<(T | null)[]> {
    if (customerIds.length === 0) return [];
    const { entries } = await this.#readPredictions(customerIds, modelType, options, 'getCachedPredictions', true);
    return entries.map((entry) => MlCache.#fresh(entry));
  }

  /**
   * Caches many predictions in one round trip (a pipeline of SETs). Every entry is validated
   * before anything is written. True when all were stored. `options.ttl` is the default of
   * entries without their own.
   */
  async cachePredictionsMany<T extends object = P>(entries: readonly PredictionEntry<T>[], options: SchemaWriteOptions<T> = {}): Promise<boolean> {
    if (entries.length === 0) return true;
    const prepared = await Promise.all(
      entries.map(async (e) => ({
        entry: e,
        prepared: await this.#preparePrediction(e.customerId, e.modelType, e.prediction, {
          ...options,
          ...(e.modelVersion === undefined ? {} : { modelVersion: e.modelVersion }),
        }),
      })),
    );
    return this.#writePredictions(
      prepared.map(({ entry, prepared: p }) => ({ prepared: p, modelType: entry.modelType, options: { ...options, ...(entry.ttl === undefined ? {} : { ttl: entry.ttl }) } })),
    );
  }

  /**
   * The guide's prediction caching pattern as one call: the cached prediction, or `compute()`'s,
   * cached before it is returned. Concurrent callers in this process share one compute; with
   * `lock`, so do other processes; with `grace`, a stale value is served while one caller
   * refreshes it. A compute that throws is not cached and its error is thrown.
   */
  async getOrComputePrediction<T extends object = P>(
    customerId: string,
    modelType: string,
    compute: () => T | Promise<T>,
    options: PredictionReadThroughOptions<T> = {},
  ): Promise<T> {
    const key = this.keys.prediction(customerId, modelType);
    this.#expiry('prediction', options); // options are checked before any round trip
    const slot: ReadThroughSlot<T> = {
      key,
      read: async () => {
        const { entry, generation } = await this.#readPrediction(customerId, modelType, options, 'getOrComputePrediction');
        return { hit: entry, generation };
      },
      prepare: async (value) => {
        assertRecord(value, `the prediction computed for ${customerId}`);
        await this.#checkWrite(this.#predictionSchemaOf(options.schema), value, 'computed prediction');
        return value;
      },
      write: async (value, seen) => {
        const prepared = await this.#preparePrediction(customerId, modelType, value, { ...options, schema: undefined });
        return this.#writePredictions([{ prepared, modelType, options }], seen);
      },
    };
    return this.#readThrough.run(slot, compute, this.#lockFor(options.lock));
  }

  #lockFor(lock: ReadThroughOptions<unknown>['lock']): ResolvedLock | null {
    return lock === undefined ? this.#lock : resolveLock(lock);
  }

  /**
   * Makes every cached prediction of a model type a miss, for a redeploy. `finrisk` layout: one
   * write of a new generation token, no scan; the old entries expire by their TTL.
   * `finrisk-python` layout: deletes `prediction:{modelType}:*` with SCAN and UNLINK, because the
   * Python service does not know generations. True when done, false when the backend failed.
   */
  async invalidateModelPredictions(modelType: string): Promise<boolean> {
    if (this.keys.isPython) return (await this.cache.deleteByPrefix(this.keys.pythonModelPrefix(modelType))).complete;
    return this.#generations.bump(modelType);
  }

  /**
   * Deletes cached predictions: one customer's, of every model (exactly that customer: the id is
   * literal, so `*` is only the customer named `*`), or every customer's. Uses SCAN and UNLINK,
   * never KEYS. Says how many keys were deleted (with `dryRun`: would be) and whether the walk
   * was complete (`complete: false` when the backend failed part way).
   */
  async clearPredictionCache(customerId?: string, options: ClearOptions = {}): Promise<BulkResult> {
    if (this.keys.isPython && customerId !== undefined) {
      this.keys.prediction(customerId, 'm'); // validates the id
      // The model type comes first in the Python service's keys: every prediction key is visited.
      const match = (key: string) => this.keys.pythonCustomerOf(key) === customerId;
      const prefix = this.keys.predictionPrefix();
      return options.dryRun ? this.cache.countByPrefix(prefix, { match }) : this.cache.deleteByPrefix(prefix, { match });
    }
    const prefix = this.keys.predictionPrefix(customerId);
    return options.dryRun ? this.cache.countByPrefix(prefix) : this.cache.deleteByPrefix(prefix);
  }

  // ---------------------------------------------------------------- features

  #featureSchemaOf<T extends object>(schema: Schema<T> | undefined): Schema<T> | undefined {
    return schema ?? (this.#featureSchema as Schema<T> | undefined);
  }

  async #prepareFeatures<T extends object>(customerId: string, features: T, schema: Schema<T> | undefined): Promise<CacheKey> {
    const key = this.keys.feature(customerId);
    assertRecord(features, 'features');
    await this.#checkWrite(this.#featureSchemaOf(schema), features, 'features');
    return key;
  }

  /**
   * Caches a customer's features (the guide's `cache_features`): a plain object; NaN, typed
   * arrays and dates round-trip exactly in the `finrisk` layout. True when stored.
   * @default ttl `CACHE_FEATURE_TTL` (1800 s)
   */
  async cacheFeatures<T extends object = F>(customerId: string, features: T, options: SchemaWriteOptions<T> = {}): Promise<boolean> {
    const key = await this.#prepareFeatures(customerId, features, options.schema);
    const write = this.#writeEntry(key, 'feature', features, options);
    return this.cache.set(write.key, write.value, { ttl: write.ttl ?? null });
  }

  async #readFeatures<T extends object>(customerIds: readonly string[], options: ReadOptions<T>, operation: string, valuesOnly = false): Promise<(CachedEntry<T> | null)[]> {
    const keys = customerIds.map((id) => this.keys.feature(id));
    const rules: DecodeRules<T> = { kind: 'feature', schema: this.#featureSchemaOf(options.schema), operation, valuesOnly };
    const raws = await this.cache.getMany<unknown>(keys);
    return settleAll(keys.map((key, i) => this.#decode(key, raws[i], rules)));
  }

  /** A customer's cached features (the guide's `get_cached_features`), or null. One round trip. */
  async getCachedFeatures<T extends object = F>(customerId: string, options: ReadOptions<T> = {}): Promise<T | null> {
    const [entry] = await this.#readFeatures([customerId], options, 'getCachedFeatures', true);
    return MlCache.#fresh(entry ?? null);
  }

  /** Like {@link MlCache.getCachedFeatures}, with the write time and stale values of a grace period. */
  async getCachedFeaturesEntry<T extends object = F>(customerId: string, options: ReadOptions<T> = {}): Promise<CachedEntry<T> | null> {
    const [entry] = await this.#readFeatures([customerId], options, 'getCachedFeaturesEntry');
    return entry ?? null;
  }

  /** Many customers' features in one round trip (one MGET), in the order of `customerIds`. */
  async getCachedFeaturesMany<T extends object = F>(customerIds: readonly string[], options: ReadOptions<T> = {}): Promise<(T | null)[]> {
    if (customerIds.length === 0) return [];
    const entries = await this.#readFeatures(customerIds, options, 'getCachedFeaturesMany', true);
    return entries.map((entry) => MlCache.#fresh(entry));
  }

  /** Caches many customers' features in one round trip (a pipeline); every entry is validated first. True when all were stored. */
  async cacheFeaturesMany<T extends object = F>(entries: readonly FeatureEntry<T>[], options: SchemaWriteOptions<T> = {}): Promise<boolean> {
    if (entries.length === 0) return true;
    const keys = await Promise.all(entries.map((e) => this.#prepareFeatures(e.customerId, e.features, options.schema)));
    const writes = entries.map((e, i) =>
      this.#writeEntry(keys[i]!, 'feature', e.features, { ...options, ...(e.ttl === undefined ? {} : { ttl: e.ttl }) }),
    );
    return this.cache.setMany(writes.map((w) => ({ key: w.key, value: w.value, ttl: w.ttl ?? null })));
  }

  /** The guide's feature caching pattern as one call; same guarantees as {@link MlCache.getOrComputePrediction}. */
  async getOrComputeFeatures<T extends object = F>(customerId: string, compute: () => T | Promise<T>, options: ReadThroughOptions<T> = {}): Promise<T> {
    const key = this.keys.feature(customerId);
    this.#expiry('feature', options);
    const slot: ReadThroughSlot<T> = {
      key,
      read: async () => {
        const [entry] = await this.#readFeatures([customerId], options, 'getOrComputeFeatures');
        return { hit: entry ?? null, generation: null };
      },
      prepare: async (value) => {
        await this.#prepareFeatures(customerId, value, options.schema);
        return value;
      },
      write: async (value) => {
        const write = this.#writeEntry(key, 'feature', value, options);
        return this.cache.set(write.key, write.value, { ttl: write.ttl ?? null });
      },
    };
    return this.#readThrough.run(slot, compute, this.#lockFor(options.lock));
  }

  /**
   * Deletes one customer's features (exactly that id), or every customer's (SCAN and UNLINK). Says
   * how many keys were deleted (with `dryRun`: would be) and whether it was complete.
   */
  async clearFeatureCache(customerId?: string, options: ClearOptions = {}): Promise<BulkResult> {
    if (customerId !== undefined) {
      const key = this.keys.feature(customerId);
      if (!options.dryRun) return this.cache.deleteMany([key]);
      const found = await this.cache.pttl(key);
      return found === null ? { count: 0, complete: false } : { count: found === -2 ? 0 : 1, complete: true };
    }
    const prefix = this.keys.featurePrefix();
    return options.dryRun ? this.cache.countByPrefix(prefix) : this.cache.deleteByPrefix(prefix);
  }

  // ---------------------------------------------------------------- artifacts

  /**
   * Caches one version of a model's artifacts (the guide's `cache_model_artifacts`): JSON-like
   * data, typed arrays, Map, Set, Date and instances of classes registered with
   * {@link registerArtifactClass}. Large values are compressed. `ttl: null` keeps them until
   * deleted (the guide's best practice). True when stored.
   * @default ttl `CACHE_MODEL_TTL` (86400 s)
   */
  async cacheModelArtifacts<A = unknown>(modelName: string, version: string, artifacts: A, options: SchemaWriteOptions<A> = {}): Promise<boolean> {
    const key = this.keys.artifact(modelName, version);
    assertPresent(artifacts, 'artifacts');
    await this.#checkWrite(options.schema, artifacts, 'artifacts');
    const write = this.#writeEntry(key, 'model', artifacts, options);
    return this.cache.set(write.key, write.value, { ttl: write.ttl ?? null });
  }

  async #readArtifacts<A>(modelName: string, version: string, options: ReadOptions<A>, operation: string): Promise<CachedEntry<A> | null> {
    const key = this.keys.artifact(modelName, version);
    const raw = await this.cache.get<unknown>(key);
    return this.#decode(key, raw, { kind: 'model', schema: options.schema, operation });
  }

  /** One version of a model's artifacts (the guide's `get_cached_model_artifacts`), or null. */
  async getCachedModelArtifacts<A = unknown>(modelName: string, version: string, options: ReadOptions<A> = {}): Promise<A | null> {
    return MlCache.#fresh(await this.#readArtifacts(modelName, version, options, 'getCachedModelArtifacts'));
  }

  /** The guide's model artifacts pattern as one call (load from storage on a miss); same guarantees as {@link MlCache.getOrComputePrediction}. */
  async getOrComputeModelArtifacts<A = unknown>(modelName: string, version: string, compute: () => A | Promise<A>, options: ReadThroughOptions<A> = {}): Promise<A> {
    const key = this.keys.artifact(modelName, version);
    this.#expiry('model', options);
    const slot: ReadThroughSlot<A> = {
      key,
      read: async () => ({ hit: await this.#readArtifacts(modelName, version, options, 'getOrComputeModelArtifacts'), generation: null }),
      prepare: async (value) => {
        assertPresent(value, 'computed artifacts');
        await this.#checkWrite(options.schema, value, 'computed artifacts');
        return value;
      },
      write: async (value) => {
        const write = this.#writeEntry(key, 'model', value, options);
        return this.cache.set(write.key, write.value, { ttl: write.ttl ?? null });
      },
    };
    return this.#readThrough.run(slot, compute, this.#lockFor(options.lock));
  }

  /**
   * Deletes every version of one model's artifacts, or every model's (SCAN and UNLINK). Says how
   * many keys were deleted (with `dryRun`: would be) and whether it was complete.
   */
  async clearModelCache(modelName?: string, options: ClearOptions = {}): Promise<BulkResult> {
    const prefix = this.keys.artifactPrefix(modelName);
    return options.dryRun ? this.cache.countByPrefix(prefix) : this.cache.deleteByPrefix(prefix);
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
