import { isGenerationToken } from './generations.js';
import { isPlainObject } from './value-checks.js';

/**
 * What the `finrisk` layout stores under a prediction, features or artifact key: the value and
 * what the SDK needs to know about it. It is an ordinary cache-core envelope value, so typed
 * arrays, Map, Date, NaN and registered classes inside `value` round-trip.
 */
export interface StoredEntry<T> {
  /** The cached value as the caller gave it. */
  value: T;
  /** When it was written, in ms since the epoch (writer's clock). */
  cachedAt: number;
  /** End of the fresh period in ms since the epoch, when written with a grace period; later reads see it as stale. */
  freshUntil?: number;
  /** Predictions: the model type's generation token the value was written under. */
  generation?: string;
  /** Predictions: the model version that made the value. */
  modelVersion?: string;
}

/** A cached value with what is known about it. */
export interface CachedEntry<T> {
  /** The value (the schema's output when a schema is in use). */
  value: T;
  /** When it was written; null for values written by the Python service (it does not say). */
  cachedAt: Date | null;
  /** True when the fresh period is over and the value is kept only for the grace period. */
  isStale: boolean;
  /** Predictions: the model version that made it, when known (`model_version` in the finrisk-python layout). */
  modelVersion?: string;
}

/** A field the object holds itself; a value only a prototype holds (a polluted one) makes the entry invalid. */
const INHERITED = Symbol('inherited');
function own(raw: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(raw, name)) return raw[name];
  return raw[name] === undefined ? undefined : INHERITED;
}

/**
 * True when a decoded payload has the shape of a {@link StoredEntry}: every field its own (never
 * a prototype's), a generation only as a token this SDK writes.
 */
export function isStoredEntry(raw: unknown): raw is StoredEntry<unknown> {
  if (!isPlainObject(raw) || !Object.hasOwn(raw, 'value')) return false;
  const freshUntil = own(raw, 'freshUntil');
  const generation = own(raw, 'generation');
  const modelVersion = own(raw, 'modelVersion');
  return (
    typeof own(raw, 'cachedAt') === 'number' &&
    (freshUntil === undefined || typeof freshUntil === 'number') &&
    (generation === undefined || isGenerationToken(generation)) &&
    (modelVersion === undefined || typeof modelVersion === 'string')
  );
}

/** The model version a prediction names itself (`model_version` or `modelVersion`), if any. */
export function modelVersionOf(prediction: object): string | undefined {
  const record = prediction as Record<string, unknown>;
  // Own fields only: a prediction under a Python-layout key is plain JSON another process wrote.
  const field = (name: string) => (Object.hasOwn(record, name) ? record[name] : undefined);
  const version = field('model_version') ?? field('modelVersion');
  return typeof version === 'string' ? version : undefined;
}
