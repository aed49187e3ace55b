import type { Cache, CacheKey, KeyPrefix } from '@finrisk/cache-core';
import type { MlLayout, PredictionRead, PredictionStore } from './ml-layout.js';
import type { MlKeys } from './ml-keys.js';
import type { CachedEntry, DecodeRules, EntryCodec } from './stored-entry.js';

const noGeneration = (): undefined => undefined;

/**
 * The Python service's layout (`finrisk-python`): its keys and plain JSON, so that both read what
 * the other wrote. Plain JSON has no room for a fresh-until time (no grace) or a generation token,
 * and the Python service knows no generations: a prediction is read and written alone, and
 * invalidating a model type deletes its keys.
 */
export class PythonLayout implements MlLayout {
  readonly keys: MlKeys;
  readonly supportsGrace = false;
  readonly #cache: Cache;
  readonly #entries: EntryCodec;

  constructor(cache: Cache, keys: MlKeys, entries: EntryCodec) {
    this.#cache = cache;
    this.keys = keys;
    this.#entries = entries;
  }

  async readPrediction<T>(_modelType: string, key: CacheKey, rules: DecodeRules<T>): Promise<PredictionRead<T>> {
    return { entry: await this.#entries.decode(key, await this.#cache.get<unknown>(key), rules), generation: null };
  }

  async readPredictions<T>(_modelType: string, keys: readonly CacheKey[], rules: DecodeRules<T>): Promise<(CachedEntry<T> | null)[]> {
    return this.#entries.decodeAll(keys, await this.#cache.getMany<unknown>(keys), rules);
  }

  localGeneration(): undefined {
    return undefined;
  }

  writePredictions<I extends { modelType: string }>(items: I[], store: PredictionStore<I>): Promise<boolean> {
    return store(items, noGeneration);
  }

  /** Deletes `prediction:{modelType}:*` with SCAN and UNLINK. */
  async invalidatePredictions(modelType: string): Promise<boolean> {
    return (await this.#cache.deleteByPrefix(this.keys.pythonModelPrefix(modelType))).complete;
  }

  predictionScope(customerId?: string): { prefix: KeyPrefix; match?: (key: string) => boolean } {
    const prefix = this.keys.predictionPrefix();
    if (customerId === undefined) return { prefix };
    this.keys.prediction(customerId, 'm'); // validates the id
    // The model type comes first in the Python service's keys: every prediction key is visited.
    return { prefix, match: (key) => this.keys.pythonCustomerOf(key) === customerId };
  }
}
