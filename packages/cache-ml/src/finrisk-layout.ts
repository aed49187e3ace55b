import type { Cache, CacheKey, KeyPrefix } from '@finrisk/cache-core';
import { afterPoll, GenerationTracker, HeldTokens } from './generations.js';
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
  /** Tokens a write may use without reading them back; made at the second prediction write (it opens the tracking connections). */
  #held: HeldTokens | undefined;
  #writes = 0;

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
    this.#saw(modelType, generation);
    rules.generation = generation;
    const entry = this.#entries.decode(key, pair[1], rules);
    return { entry: entry instanceof Promise ? await entry : entry, generation };
  }

  async readPredictions<T>(modelType: string, keys: readonly CacheKey[], rules: DecodeRules<T>): Promise<(CachedEntry<T> | null)[]> {
    const [token, ...raws] = await this.#cache.getMany<unknown>([this.keys.generation(modelType), ...keys]);
    rules.generation = this.#generations.observe(modelType, token);
    this.#saw(modelType, rules.generation);
    return this.#entries.decodeAll(keys, raws, rules);
  }

  localGeneration(modelType: string): string | undefined {
    const token = this.#cache.peekLocal(this.keys.generation(modelType));
    if (typeof token !== 'string') return undefined;
    // Not #saw: L1 hears Redis on its own connection and may lag the watch; and this is the hot
    // path, where two more map lookups per read would show.
    this.#generations.observe(modelType, token);
    return token;
  }

  /**
   * A read saw a model type's token: one other than the token held stops it being held (not
   * needed for coherence, which the watch keeps: a read that raced a change makes the next write
   * read its token back instead of waiting for the push). A read never makes a token held (it may
   * come from L1, which hears Redis on its own connection).
   */
  #saw(modelType: string, token: string | null): void {
    const held = this.#held;
    if (held === undefined) return;
    const key = this.keys.generation(modelType).key;
    if (token !== held.trusted(key)?.token) held.drop(key);
  }

  /**
   * The held tokens, watched from this MlCache's second prediction write on: a process that
   * writes one prediction and exits (the CLI's `cache-pred`) would gain nothing from the tracking
   * connections, and under an ACL without CLIENT TRACKING would leave a denial in ACL LOG.
   */
  #heldTokens(): HeldTokens | undefined {
    if (this.#held === undefined && ++this.#writes >= 2) this.#held = HeldTokens.of(this.#cache, this.keys.generationPrefix());
    return this.#held;
  }

  /**
   * Writes predictions, each under its model's current generation token.
   *
   * Held tokens (generations.ts's HeldTokens): when every token is held, the write is the SET
   * alone. Then, before it resolves, one poll of the event loop applies the invalidations Redis
   * sent before the SET's reply (it queues them ahead of the replies of the loop that made the
   * change): when a change under the token prefix was reported during the write (a token that
   * vanished, even by the eviction this very SET caused, or a deploy), the tokens are read back
   * as below, so no prediction written after its token vanished is left unreadable.
   *
   * Otherwise (nothing held yet, tracking down or refused, a change reported since) the write
   * reads each token back in the same round trip. A token that vanished (FLUSHALL, an operator's
   * DEL, an eviction, a failover that lost it) would make the predictions just written
   * unreadable, so the token is read again (created when missing) and those predictions written
   * again under it. On one server or a Sentinel master the read follows the write on one
   * connection, so a token gone before the write is always seen; on a cluster the two run on
   * different masters, a few microseconds apart. A token that changed to another value is a
   * deploy (invalidateModelPredictions): what was just written belongs to the model before it,
   * and stays unreadable. A token read back unchanged while tracking is up becomes held.
   */
  async writePredictions<I extends { modelType: string }>(items: I[], store: PredictionStore<I>, seen?: string | null): Promise<boolean> {
    const held = this.#heldTokens();
    if (held !== undefined) {
      if (items.length === 1) {
        // One prediction (the call a scoring service makes per request): no Set, Map or array.
        const model = items[0]!.modelType;
        const token = held.trusted(this.keys.generation(model).key);
        // A read-through's read saw another token: write as it would have before tokens were held.
        if (token !== undefined && (typeof seen !== 'string' || seen === token.token)) {
          if (!(await store(items, () => token.token))) return false;
          await afterPoll();
          if (held.still(token)) return true;
          return this.#writeChecked(items, [model], new Map([[model, token.token]]), store, true);
        }
      } else {
        const models = [...new Set(items.map((i) => i.modelType))];
        const tokens = models.map((m) => held.trusted(this.keys.generation(m).key));
        if (tokens.every((t) => t !== undefined)) {
          const generations = new Map(models.map((m, i) => [m, tokens[i]!.token]));
          if (!(await store(items, (model) => generations.get(model)!))) return false;
          await afterPoll();
          if (tokens.every((t) => held.still(t!))) return true;
          return this.#writeChecked(items, models, generations, store, true);
        }
      }
    }
    const models = [...new Set(items.map((i) => i.modelType))];
    const generations = new Map<string, string>();
    for (const model of models) {
      const token = (models.length === 1 ? seen : undefined) ?? this.#generations.recent(model) ?? (await this.#generations.current(model));
      if (token === null) return false;
      generations.set(model, token);
    }
    return this.#writeChecked(items, models, generations, store, false);
  }

  /** The write with its tokens read back (see {@link FinriskLayout.writePredictions}); `stored`: the first SET was already made. */
  async #writeChecked<I extends { modelType: string }>(items: I[], models: string[], generations: Map<string, string>, store: PredictionStore<I>, stored: boolean): Promise<boolean> {
    const held = this.#held;
    const generationOf = (model: string) => generations.get(model)!;
    for (let attempt = 0; ; attempt++) {
      const mark = held?.mark();
      // The write, then the tokens read back (bypassing L1, which may not have heard of a change yet).
      const [ok, tokens] = await Promise.all([
        attempt === 0 && stored ? true : store(items, generationOf),
        this.#cache.getMany<string>(models.map((m) => ({ ...this.keys.generation(m), local: false }))),
      ]);
      if (!ok) return false;
      const vanished = models.filter((m, i) => {
        const token = tokens[i];
        if (token !== null && token !== undefined && token === generations.get(m)) {
          held?.hold(this.keys.generation(m).key, token, mark);
          return false;
        }
        held?.drop(this.keys.generation(m).key);
        this.#generations.forget(m);
        return token === null;
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
    // This process's own writes after the call never use the old token, push or no push.
    this.#held?.drop(this.keys.generation(modelType).key);
    return this.#generations.bump(modelType);
  }

  /** The customer comes first in this layout's keys: one literal prefix covers all of a customer's predictions. */
  predictionScope(customerId?: string): { prefix: KeyPrefix } {
    return { prefix: this.keys.predictionPrefix(customerId) };
  }
}
