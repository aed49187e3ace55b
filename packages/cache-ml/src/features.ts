import type { BulkResult, Cache, CacheKey } from '@finrisk/cache-core';
import type { MlKeys } from './ml-keys.js';
import type { ClearOptions, FeatureEntry, ReadOptions, ReadThroughOptions, SchemaWriteOptions, WriteOptions } from './options.js';
import type { ReadThrough, ReadThroughSlot } from './read-through.js';
import { enforceSchema, type Schema } from './schema.js';
import { freshValue, type CachedEntry, type EntryCodec } from './stored-entry.js';
import { assertRecord } from './value-checks.js';

/**
 * Customer feature vectors: what {@link MlCache}'s feature methods do. A customer's features are
 * one entry under one key in both layouts; every read goes through {@link Features.#read} and
 * every write through {@link Features.#write}, the two places a per-feature layout would change.
 */
export class Features<F extends object> {
  readonly #cache: Cache;
  readonly #keys: MlKeys;
  readonly #entries: EntryCodec;
  readonly #readThrough: ReadThrough;
  readonly #schema: Schema<F> | undefined;

  constructor(cache: Cache, keys: MlKeys, entries: EntryCodec, readThrough: ReadThrough, schema: Schema<F> | undefined) {
    this.#cache = cache;
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

  /** Reads the features under `keys` (one round trip per chunk), in their order; null for a miss. */
  async #read<T extends object>(keys: readonly CacheKey[], options: ReadOptions<T>, operation: string, valuesOnly = false): Promise<(CachedEntry<T> | null)[]> {
    const rules = { schema: this.#schemaOf(options.schema), operation, valuesOnly };
    return this.#entries.decodeAll(keys, await this.#cache.getMany<unknown>(keys), rules);
  }

  /** Writes whole feature vectors: a batch as one pipeline (setMany), else one SET. True when all were stored. */
  #write(writes: readonly { key: CacheKey; features: object; options: WriteOptions }[], asBatch: boolean): Promise<boolean> {
    const entries = writes.map((w) => this.#entries.write(w.key, w.features, w.options));
    return asBatch ? this.#cache.setMany(entries) : this.#entries.set(entries[0]!);
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
  async get<T extends object>(customerId: string, options: ReadOptions<T> = {}): Promise<T | null> {
    const [entry] = await this.#read([this.#keys.feature(customerId)], options, 'getCachedFeatures', true);
    return freshValue(entry ?? null);
  }

  /** {@link MlCache.getCachedFeaturesEntry} */
  async getEntry<T extends object>(customerId: string, options: ReadOptions<T> = {}): Promise<CachedEntry<T> | null> {
    const [entry] = await this.#read([this.#keys.feature(customerId)], options, 'getCachedFeaturesEntry');
    return entry ?? null;
  }

  /** {@link MlCache.getCachedFeaturesMany} */
  async getMany<T extends object>(customerIds: readonly string[], options: ReadOptions<T> = {}): Promise<(T | null)[]> {
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
