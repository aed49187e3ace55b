import type { Cache, CacheKey, KeyLayout, KeyPrefix } from '@finrisk/cache-core';
import { FinriskLayout } from './finrisk-layout.js';
import { MlKeys } from './ml-keys.js';
import { PythonLayout } from './python-layout.js';
import type { CachedEntry, DecodeRules, EntryCodec } from './stored-entry.js';

/** A prediction read back: the entry (null for a miss) and the token the read saw (null: none, or a layout without generations). */
export interface PredictionRead<T> {
  entry: CachedEntry<T> | null;
  generation: string | null;
}

/**
 * Stores a batch of prediction writes, each under the token `generationOf` gives its model type
 * (undefined in a layout without generations). True when all were stored.
 */
export type PredictionStore<I> = (items: I[], generationOf: (modelType: string) => string | undefined) => Promise<boolean>;

/**
 * What the two key layouts do differently, chosen once when an MlCache is made rather than asked
 * at every call: how predictions are read, written and invalidated, and what the layout supports.
 * Its {@link MlKeys} name the keys; a key of the Python service's layout is plain JSON, and the
 * entry codec (stored-entry.ts) takes how a value is stored from the key itself. A layout decodes
 * what it reads, because a prediction's generation is checked against the token read with it.
 * Features and artifacts are read and written the same way in both layouts, so they are not here.
 */
export interface MlLayout {
  /** The keys of this layout. */
  readonly keys: MlKeys;
  /** Values can carry a fresh-until time, so a grace period is possible. */
  readonly supportsGrace: boolean;
  /** Reads and decodes one prediction, in one round trip. */
  readPrediction<T>(modelType: string, key: CacheKey, rules: DecodeRules<T>): Promise<PredictionRead<T>>;
  /** Reads and decodes predictions of one model type (one round trip per chunk of keys), in the order of `keys`. */
  readPredictions<T>(modelType: string, keys: readonly CacheKey[], rules: DecodeRules<T>): Promise<(CachedEntry<T> | null)[]>;
  /**
   * The model type's token when the cache's L1 tier holds it, for a read without a round trip;
   * undefined when it does not, or the layout has no generations (the read takes the general path).
   */
  localGeneration(modelType: string): string | undefined;
  /** Writes predictions through `store`; `seen` is the token a read-through's read saw. True when all were stored. */
  writePredictions<I extends { modelType: string }>(items: I[], store: PredictionStore<I>, seen?: string | null): Promise<boolean>;
  /** Makes every cached prediction of a model type a miss. True when done, false when the backend failed. */
  invalidatePredictions(modelType: string): Promise<boolean>;
  /**
   * Where one customer's predictions (every customer's without an id) are: a literal prefix, and
   * a test of each key when the prefix covers more than that customer. Throws E_INVALID_KEY.
   */
  predictionScope(customerId?: string): { prefix: KeyPrefix; match?: (key: string) => boolean };
}

/** The layout of an MlCache: the Python service's for `finrisk-python`, else the SDK's own. */
export function createLayout(cache: Cache, layout: KeyLayout, entries: EntryCodec, generationRefreshMs: number): MlLayout {
  const keys = new MlKeys(cache, layout);
  return keys.isPython ? new PythonLayout(cache, keys, entries) : new FinriskLayout(cache, keys, entries, generationRefreshMs);
}
