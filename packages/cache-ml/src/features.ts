import type { BulkResult, Cache, CacheKey } from '@finrisk/cache-core';
import { invalidValue } from './errors.js';
import type { MlKeys } from './ml-keys.js';
import { FeatureFields, pick, type FeaturesRead } from './feature-fields.js';
import type { ClearOptions, FeatureEntry, FeatureReadOptions, ReadOptions, ReadThroughOptions, SchemaWriteOptions, WriteOptions } from './options.js';
import type { ReadThrough, ReadThroughSlot } from './read-through.js';
import { enforceSchema, type Schema } from './schema.js';
import { freshValue, type CachedEntry, type EntryCodec } from './stored-entry.js';
import { assertRecord } from './value-checks.js';

/** A customer's features read with {@link MlCache.getCachedFeaturesEntry}. */
export interface FeaturesEntry<T> extends CachedEntry<T> {
  /**
   * When each feature was written (`finrisk` layout, features written by this version); absent
   * for the Python service's layout and for entries written whole by earlier versions.
   */
  featureCachedAt?: Record<string, Date>;
}

/** Checks `only`: an array of feature names; throws E_INVALID_VALUE. */
function checkOnly(only: readonly string[] | undefined): readonly string[] | undefined {
  if (only === undefined) return undefined;
  if (!Array.isArray(only) || only.some((name) => typeof name !== 'string' || name.length === 0)) {
    throw invalidValue('only must be an array of feature names, e.g. ["age", "income"]');
  }
  return only;
}

/**
 * Customer feature vectors: what {@link MlCache}'s feature methods do. In the `finrisk` layout a
 * customer's features are a hash, a field per feature (feature-fields.ts); in the Python
 * service's they stay one JSON value, which a partial update merges into on the server. Every read
 * goes through {@link Features.#read} and every write through {@link Features.#write}.
 */
export class Features<F extends object> {
  readonly #cache: Cache;
  readonly #keys: MlKeys;
  readonly #entries: EntryCodec;
  readonly #readThrough: ReadThrough;
  readonly #schema: Schema<F> | undefined;
  /** The hash per customer of the `finrisk` layout; undefined in the Python service's. */
  readonly #fields: FeatureFields | undefined;

  constructor(cache: Cache, keys: MlKeys, entries: EntryCodec, readThrough: ReadThrough, schema: Schema<F> | undefined) {
    this.#cache = cache;
    this.#fields = keys.isPython ? undefined : new FeatureFields(cache, entries);
    this.#keys = keys;
    this.#entries = entries;
    this.#readThrough = readThrough;
    this.#schema = schema;
  }

  #schemaOf<T extends object>(schema: Schema<T> | undefined): Schema<T> | undefined {
    return schema ?? (this.#schema as Schema<T> | undefined);
  }

  /** Validates one customer's features; returns their key. */
  async #prepare<T extends object>(customerId: string, features: T, schema: Schema<T> | undefined): Promise<CacheKey> {
    const key = this.#keys.feature(customerId);
    assertRecord(features, 'features');
    await enforceSchema(this.#schemaOf(schema), features, 'features');
    return key;
  }

  /** Reads the features under `keys` (one round trip, or one per chunk), in their order; null for a miss. `only`: those features. */
  async #readFull<T extends object>(keys: readonly CacheKey[], options: FeatureReadOptions<T>, operation: string, valuesOnly = false): Promise<FeaturesRead<T>[]> {
    const rules = { schema: this.#schemaOf(options.schema), operation, valuesOnly };
    const only = checkOnly(options.only);
    if (this.#fields) return this.#fields.read(keys, only, rules);
    const entries = await this.#entries.decodeAll(keys, await this.#cache.getMany<unknown>(keys), only === undefined ? rules : { ...rules, schema: undefined });
    return entries.map((entry) => ({ entry: entry === null || only === undefined ? entry : { ...entry, value: pick(entry.value, only) as T } }));
  }

  async #read<T extends object>(keys: readonly CacheKey[], options: FeatureReadOptions<T>, operation: string, valuesOnly = false): Promise<(CachedEntry<T> | null)[]> {
    return (await this.#readFull(keys, options, operation, valuesOnly)).map((r) => r.entry);
  }

  /** Writes whole feature vectors: a batch in one round trip (a pipeline), else one write. True when all were stored. */
  async #write(writes: readonly { key: CacheKey; features: object; options: WriteOptions }[], asBatch: boolean): Promise<boolean> {
    const fields = this.#fields;
    if (fields) return (await Promise.all(writes.map((w) => fields.writeWhole(w.key, w.features, w.options)))).every(Boolean);
    const entries = writes.map((w) => this.#entries.write(w.key, w.features, w.options));
    return asBatch ? this.#cache.setMany(entries) : this.#entries.set(entries[0]!);
  }

  /** {@link MlCache.updateFeatures} */
  async update<T extends object>(customerId: string, partial: Partial<T>, options: WriteOptions = {}): Promise<boolean> {
    const key = this.#keys.feature(customerId);
    assertRecord(partial, 'features');
    // No schema: it describes a whole vector, and a part of one would fail it.
    if (this.#fields) return this.#fields.update(key, partial, options);
    const { ttl } = this.#entries.expiry(key, options); // refuses grace on plain JSON
    return this.#cache.mergeJson(key, partial, { ttl });
  }

  /** {@link MlCache.cacheFeatures} */
  async cache<T extends object>(customerId: string, features: T, options: SchemaWriteOptions<T> = {}): Promise<boolean> {
    const key = await this.#prepare(customerId, features, options.schema);
    return this.#write([{ key, features, options }], false);
  }

  /** {@link MlCache.cacheFeaturesMany} */
  async cacheMany<T extends object>(entries: readonly FeatureEntry<T>[], options: SchemaWriteOptions<T> = {}): Promise<boolean> {
    if (entries.length === 0) return true;
    const keys = await Promise.all(entries.map((e) => this.#prepare(e.customerId, e.features, options.schema)));
    return this.#write(
      entries.map((e, i) => ({ key: keys[i]!, features: e.features, options: { ...options, ...(e.ttl === undefined ? {} : { ttl: e.ttl }) } })),
      true,
    );
  }

  /** {@link MlCache.getCachedFeatures} */
  async get<T extends object>(customerId: string, options: FeatureReadOptions<T> = {}): Promise<T | null> {
    const [entry] = await this.#read([this.#keys.feature(customerId)], options, 'getCachedFeatures', true);
    return freshValue(entry ?? null);
  }

  /** {@link MlCache.getCachedFeaturesEntry} */
  async getEntry<T extends object>(customerId: string, options: FeatureReadOptions<T> = {}): Promise<FeaturesEntry<T> | null> {
    const [read] = await this.#readFull([this.#keys.feature(customerId)], options, 'getCachedFeaturesEntry');
    if (!read?.entry) return null;
    if (read.writtenAt === undefined) return read.entry;
    return { ...read.entry, featureCachedAt: Object.fromEntries([...read.writtenAt].map(([name, at]) => [name, new Date(at)])) };
  }

  /** {@link MlCache.getCachedFeaturesMany} */
  async getMany<T extends object>(customerIds: readonly string[], options: FeatureReadOptions<T> = {}): Promise<(T | null)[]> {
    if (customerIds.length === 0) return [];
    const entries = await this.#read(customerIds.map((id) => this.#keys.feature(id)), options, 'getCachedFeaturesMany', true);
    return entries.map((entry) => freshValue(entry));
  }

  /** {@link MlCache.getOrComputeFeatures} */
  async getOrCompute<T extends object>(customerId: string, compute: () => T | Promise<T>, options: ReadThroughOptions<T> = {}): Promise<T> {
    const key = this.#keys.feature(customerId);
    this.#entries.expiry(key, options); // options are checked before any round trip
    const slot: ReadThroughSlot<T> = {
      key,
      read: async () => {
        const [entry] = await this.#read([key], options, 'getOrComputeFeatures');
        return { hit: entry ?? null, generation: null };
      },
      prepare: async (value) => {
        await this.#prepare(customerId, value, options.schema);
        return value;
      },
      write: (value) => this.#write([{ key, features: value, options }], false),
    };
    return this.#readThrough.run(slot, compute, options.lock);
  }

  /**
   * {@link MlCache.clearFeatureCache}: one customer's key (exactly that id), or every customer's
   * (SCAN and UNLINK).
   */
  async clear(customerId?: string, options: ClearOptions = {}): Promise<BulkResult> {
    if (customerId !== undefined) {
      const key = this.#keys.feature(customerId);
      if (!options.dryRun) return this.#cache.deleteMany([key]);
      const found = await this.#cache.pttl(key);
      return found === null ? { count: 0, complete: false } : { count: found === -2 ? 0 : 1, complete: true };
    }
    const prefix = this.#keys.featurePrefix();
    return options.dryRun ? this.#cache.countByPrefix(prefix) : this.#cache.deleteByPrefix(prefix);
  }
}
