import type { BulkResult, Cache, CacheKey } from '@finrisk/cache-core';
import type { MlLayout, PredictionRead } from './ml-layout.js';
import type { ClearOptions, PredictionEntry, PredictionReadOptions, PredictionReadThroughOptions, PredictionWriteOptions, SchemaWriteOptions, WriteOptions } from './options.js';
import type { ReadThrough, ReadThroughSlot } from './read-through.js';
import { enforceSchema, type Schema } from './schema.js';
import { freshValue, modelVersionOf, type CachedEntry, type DecodeRules, type EntryCodec } from './stored-entry.js';
import { assertRecord } from './value-checks.js';

/** A checked prediction, ready to be written under its model type's token. */
interface PredictionWrite {
  key: CacheKey;
  value: object;
  modelType: string;
  modelVersion: string | undefined;
  options: WriteOptions;
}

/**
 * Model predictions per customer and model type: what {@link MlCache}'s prediction methods do.
 * The layout says how they are read, written and invalidated (generation tokens or not).
 */
export class Predictions<P extends object> {
  readonly #cache: Cache;
  readonly #layout: MlLayout;
  readonly #entries: EntryCodec;
  readonly #readThrough: ReadThrough;
  readonly #schema: Schema<P> | undefined;

  constructor(cache: Cache, layout: MlLayout, entries: EntryCodec, readThrough: ReadThrough, schema: Schema<P> | undefined) {
    this.#cache = cache;
    this.#layout = layout;
    this.#entries = entries;
    this.#readThrough = readThrough;
    this.#schema = schema;
  }

  #schemaOf<T extends object>(schema: Schema<T> | undefined): Schema<T> | undefined {
    return schema ?? (this.#schema as Schema<T> | undefined);
  }

  /** Validates a prediction and builds its write. */
  async #prepare<T extends object>(customerId: string, modelType: string, prediction: T, options: PredictionWriteOptions<T>): Promise<PredictionWrite> {
    const key = this.#layout.keys.prediction(customerId, modelType);
    assertRecord(prediction, 'prediction');
    const checked = enforceSchema(this.#schemaOf(options.schema), prediction, 'prediction');
    if (checked) await checked;
    return { key, value: prediction, modelType, modelVersion: options.modelVersion ?? modelVersionOf(prediction), options };
  }

  /** Sends prepared writes, each under the token its layout gives (one SET for one, else a pipeline). */
  readonly #store = (items: PredictionWrite[], generationOf: (modelType: string) => string | undefined): Promise<boolean> => {
    const writes = items.map((i) => this.#entries.write(i.key, i.value, i.options, { generation: generationOf(i.modelType), modelVersion: i.modelVersion }));
    return writes.length === 1 ? this.#entries.set(writes[0]!) : this.#cache.setMany(writes);
  };

  /** {@link MlCache.cacheModelPrediction} */
  async cache<T extends object>(customerId: string, modelType: string, prediction: T, options: PredictionWriteOptions<T> = {}): Promise<boolean> {
    const write = await this.#prepare(customerId, modelType, prediction, options);
    return this.#layout.writePredictions([write], this.#store);
  }

  /** {@link MlCache.cachePredictionsMany} */
  async cacheMany<T extends object>(entries: readonly PredictionEntry<T>[], options: SchemaWriteOptions<T> = {}): Promise<boolean> {
    if (entries.length === 0) return true;
    const writes = await Promise.all(
      entries.map((e) =>
        this.#prepare(e.customerId, e.modelType, e.prediction, {
          ...options,
          ...(e.modelVersion === undefined ? {} : { modelVersion: e.modelVersion }),
          ...(e.ttl === undefined ? {} : { ttl: e.ttl }),
        }),
      ),
    );
    return this.#layout.writePredictions(writes, this.#store);
  }

  #rules<T extends object>(options: PredictionReadOptions<T>, operation: string, valuesOnly: boolean): DecodeRules<T> {
    return { modelVersion: options.modelVersion, schema: this.#schemaOf(options.schema), operation, valuesOnly };
  }

  /**
   * One customer's prediction: {@link Predictions.#readMany} without the arrays, because it is
   * the call a scoring service makes per request. Not async: the layout's read is the only async
   * frame between the caller's and the cache's (one more cost 1,800 instructions, 4% of a read on
   * the memory store, measured with callgrind).
   */
  #read<T extends object>(customerId: string, modelType: string, options: PredictionReadOptions<T>, operation: string, valuesOnly = false): Promise<PredictionRead<T>> {
    const key = this.#layout.keys.prediction(customerId, modelType);
    return this.#layout.readPrediction(modelType, key, this.#rules(options, operation, valuesOnly));
  }

  #readMany<T extends object>(customerIds: readonly string[], modelType: string, options: PredictionReadOptions<T>, operation: string): Promise<(CachedEntry<T> | null)[]> {
    const keys = customerIds.map((id) => this.#layout.keys.prediction(id, modelType));
    return this.#layout.readPredictions(modelType, keys, this.#rules(options, operation, true));
  }

  /**
   * A prediction whose token and record are both in the cache's L1 tier, answered without a
   * round trip, a promise of its own or any object per read (the call a scoring service makes
   * most); undefined when either is not held, or the read needs the general path (a schema, a
   * model version to match, a layout without generations), which then reads it.
   */
  #hot<T extends object>(customerId: string, modelType: string, options: PredictionReadOptions<T>): T | null | undefined {
    if (options.modelVersion !== undefined || (options.schema ?? this.#schema) !== undefined) return undefined;
    const generation = this.#layout.localGeneration(modelType);
    if (generation === undefined) return undefined;
    const key = this.#layout.keys.prediction(customerId, modelType);
    const raw = this.#cache.peekLocal(key);
    if (raw === undefined) return undefined;
    return this.#entries.freshValueOf<T>(key, raw, generation, 'getCachedPrediction');
  }

  /** {@link MlCache.getCachedPrediction} */
  async get<T extends object>(customerId: string, modelType: string, options: PredictionReadOptions<T> = {}): Promise<T | null> {
    const hot = this.#hot(customerId, modelType, options);
    if (hot !== undefined) return hot;
    const { entry } = await this.#read(customerId, modelType, options, 'getCachedPrediction', true);
    return freshValue(entry);
  }

  /** {@link MlCache.getCachedPredictionEntry} */
  async getEntry<T extends object>(customerId: string, modelType: string, options: PredictionReadOptions<T> = {}): Promise<CachedEntry<T> | null> {
    const { entry } = await this.#read(customerId, modelType, options, 'getCachedPredictionEntry');
    return entry;
  }

  /** {@link MlCache.getCachedPredictions} */
  async getMany<T extends object>(customerIds: readonly string[], modelType: string, options: PredictionReadOptions<T> = {}): Promise<(T | null)[]> {
    if (customerIds.length === 0) return [];
    const entries = await this.#readMany(customerIds, modelType, options, 'getCachedPredictions');
    return entries.map((entry) => freshValue(entry));
  }

  /** {@link MlCache.getOrComputePrediction} */
  async getOrCompute<T extends object>(customerId: string, modelType: string, compute: () => T | Promise<T>, options: PredictionReadThroughOptions<T> = {}): Promise<T> {
    const key = this.#layout.keys.prediction(customerId, modelType);
    this.#entries.expiry(key, options); // options are checked before any round trip
    const slot: ReadThroughSlot<T> = {
      key,
      read: async () => {
        const { entry, generation } = await this.#read<T>(customerId, modelType, options, 'getOrComputePrediction');
        return { hit: entry, generation };
      },
      prepare: async (value) => {
        assertRecord(value, `the prediction computed for ${customerId}`);
        await enforceSchema(this.#schemaOf(options.schema), value, 'computed prediction');
        return value;
      },
      write: async (value, seen) => {
        const write = await this.#prepare(customerId, modelType, value, { ...options, schema: undefined });
        return this.#layout.writePredictions([write], this.#store, seen);
      },
    };
    return this.#readThrough.run(slot, compute, options.lock);
  }

  /** {@link MlCache.invalidateModelPredictions} */
  invalidate(modelType: string): Promise<boolean> {
    return this.#layout.invalidatePredictions(modelType);
  }

  /** {@link MlCache.clearPredictionCache} */
  async clear(customerId?: string, options: ClearOptions = {}): Promise<BulkResult> {
    const { prefix, match } = this.#layout.predictionScope(customerId);
    const filter = match === undefined ? undefined : { match };
    return options.dryRun ? this.#cache.countByPrefix(prefix, filter) : this.#cache.deleteByPrefix(prefix, filter);
  }
}
