import type { Cache, CacheKey, KeyPrefix } from '@finrisk/cache-core';
import { GenerationTracker } from './generations.js';
import type { MlLayout, PredictionRead, PredictionStore } from './ml-layout.js';
import type { MlKeys } from './ml-keys.js';
import type { CachedEntry, DecodeRules, EntryCodec } from './stored-entry.js';

/**
 * The SDK's own layout (`finrisk`): values in core's envelope, so grace periods are possible, and
 * predictions guarded by generation tokens (generations.ts): each is written with its model
 * type's token, a read fetches the token with the predictions, and invalidating a model type is
 * one SET of a new token, whatever the size of the keyspace.
 */
export class FinriskLayout implements MlLayout {
  readonly keys: MlKeys;
  readonly supportsGrace = true;
  readonly #cache: Cache;
  readonly #entries: EntryCodec;
  readonly #generations: GenerationTracker;

  /** `generationRefreshMs`: how long a write may reuse the token this process last saw. */
  constructor(cache: Cache, keys: MlKeys, entries: EntryCodec, generationRefreshMs: number) {
    this.#cache = cache;
    this.keys = keys;
    this.#entries = entries;
    this.#generations = new GenerationTracker(cache, keys, generationRefreshMs);
  }

  /** The token and the prediction in one MGET: invalidation costs reads nothing extra. */
  async readPrediction<T>(modelType: string, key: CacheKey, rules: DecodeRules<T>): Promise<PredictionRead<T>> {
    const pair = await this.#cache.getMany<unknown>([this.keys.generation(modelType), key]);
    const generation = this.#generations.observe(modelType, pair[0]);
    rules.generation = generation;
    const entry = this.#entries.decode(key, pair[1], rules);
    return { entry: entry instanceof Promise ? await entry : entry, generation };
  }

  async readPredictions<T>(modelType: string, keys: readonly CacheKey[], rules: DecodeRules<T>): Promise<(CachedEntry<T> | null)[]> {
    const [token, ...raws] = await this.#cache.getMany<unknown>([this.keys.generation(modelType), ...keys]);
    rules.generation = this.#generations.observe(modelType, token);
    return this.#entries.decodeAll(keys, raws, rules);
  }

  localGeneration(modelType: string): string | undefined {
    const token = this.#cache.peekLocal(this.keys.generation(modelType));
    if (typeof token !== 'string') return undefined;
    this.#generations.observe(modelType, token);
    return token;
  }

  /**
   * Writes predictions, each under its model's current generation token. In the same round trip
   * it reads each token back: a token that vanished (FLUSHALL, an operator's DEL, an eviction, a
   * failover that lost it) would make the predictions just written unreadable, so the token is
   * read again (created when missing) and those predictions written again under it. On one
   * server or a Sentinel master the read follows the write on one connection, so a token gone
   * before the write is always seen; on a cluster the two run on different masters, a few
   * microseconds apart. A token that changed to another value is a deploy
   * (invalidateModelPredictions): what was just written belongs to the model before it, and
   * stays unreadable.
   */
  async writePredictions<I extends { modelType: string }>(items: I[], store: PredictionStore<I>, seen?: string | null): Promise<boolean> {
    const models = [...new Set(items.map((i) => i.modelType))];
    const generations = new Map<string, string>();
    for (const model of models) {
      const token = (models.length === 1 ? seen : undefined) ?? this.#generations.recent(model) ?? (await this.#generations.current(model));
      if (token === null) return false;
      generations.set(model, token);
    }
    const generationOf = (model: string) => generations.get(model)!;
    for (let attempt = 0; ; attempt++) {
      // The write, then the tokens read back (bypassing L1, which may not have heard of a change yet).
      const [stored, tokens] = await Promise.all([
        store(items, generationOf),
        this.#cache.getMany<string>(models.map((m) => ({ ...this.keys.generation(m), local: false }))),
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

  /** One write of a new token, no scan; the old entries expire by their TTL. */
  invalidatePredictions(modelType: string): Promise<boolean> {
    return this.#generations.bump(modelType);
  }

  /** The customer comes first in this layout's keys: one literal prefix covers all of a customer's predictions. */
  predictionScope(customerId?: string): { prefix: KeyPrefix } {
    return { prefix: this.keys.predictionPrefix(customerId) };
  }
}
