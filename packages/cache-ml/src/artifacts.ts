import type { BulkResult, Cache, CacheKey } from '@finrisk/cache-core';
import type { MlKeys } from './ml-keys.js';
import type { ClearOptions, ReadOptions, ReadThroughOptions, SchemaWriteOptions } from './options.js';
import type { ReadThrough, ReadThroughSlot } from './read-through.js';
import { enforceSchema } from './schema.js';
import { freshValue, type CachedEntry, type EntryCodec } from './stored-entry.js';
import { assertPresent } from './value-checks.js';

/**
 * Model artifacts, one entry per model and version: what {@link MlCache}'s artifact methods do.
 * Both layouts keep them in the SDK's envelope (the Python service pickled its artifacts).
 */
export class Artifacts {
  readonly #cache: Cache;
  readonly #keys: MlKeys;
  readonly #entries: EntryCodec;
  readonly #readThrough: ReadThrough;

  constructor(cache: Cache, keys: MlKeys, entries: EntryCodec, readThrough: ReadThrough) {
    this.#cache = cache;
    this.#keys = keys;
    this.#entries = entries;
    this.#readThrough = readThrough;
  }

  async #read<A>(key: CacheKey, options: ReadOptions<A>, operation: string): Promise<CachedEntry<A> | null> {
    return this.#entries.decode(key, await this.#cache.get<unknown>(key), { schema: options.schema, operation });
  }

  /** {@link MlCache.cacheModelArtifacts} */
  async cache<A>(modelName: string, version: string, artifacts: A, options: SchemaWriteOptions<A> = {}): Promise<boolean> {
    const key = this.#keys.artifact(modelName, version);
    assertPresent(artifacts, 'artifacts');
    await enforceSchema(options.schema, artifacts, 'artifacts');
    return this.#entries.store(key, artifacts, options);
  }

  /** {@link MlCache.getCachedModelArtifacts} */
  async get<A>(modelName: string, version: string, options: ReadOptions<A> = {}): Promise<A | null> {
    return freshValue(await this.#read(this.#keys.artifact(modelName, version), options, 'getCachedModelArtifacts'));
  }

  /** {@link MlCache.getOrComputeModelArtifacts} */
  async getOrCompute<A>(modelName: string, version: string, compute: () => A | Promise<A>, options: ReadThroughOptions<A> = {}): Promise<A> {
    const key = this.#keys.artifact(modelName, version);
    this.#entries.expiry(key, options); // options are checked before any round trip
    const slot: ReadThroughSlot<A> = {
      key,
      read: async () => ({ hit: await this.#read(key, options, 'getOrComputeModelArtifacts'), generation: null }),
      prepare: async (value) => {
        assertPresent(value, 'computed artifacts');
        await enforceSchema(options.schema, value, 'computed artifacts');
        return value;
      },
      write: (value) => this.#entries.store(key, value, options),
    };
    return this.#readThrough.run(slot, compute, options.lock);
  }

  /** {@link MlCache.clearModelCache}: every version of one model, or every model's (SCAN and UNLINK). */
  async clear(modelName?: string, options: ClearOptions = {}): Promise<BulkResult> {
    const prefix = this.#keys.artifactPrefix(modelName);
    return options.dryRun ? this.#cache.countByPrefix(prefix) : this.#cache.deleteByPrefix(prefix);
  }
}
