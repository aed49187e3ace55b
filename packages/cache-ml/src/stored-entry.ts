import { FinRiskCacheError, type Cache, type CacheKey, type SetManyEntry } from '@finrisk/cache-core';
import { invalidConfig } from './errors.js';
import { isGenerationToken } from './generations.js';
import type { MlCacheErrorEvent, WriteOptions } from './options.js';
import { checkSchemaFast, settleAll, type Schema, type SchemaOutcome } from './schema.js';
import { checkGrace, isPlainObject } from './value-checks.js';

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

/** The value of an entry that is fresh; null for a miss and for a stale value kept for a grace period. */
export function freshValue<T>(entry: CachedEntry<T> | null): T | null {
  return entry && !entry.isStale ? entry.value : null;
}

/** What a write keeps beside the value (predictions). */
export type EntryMeta = Pick<StoredEntry<unknown>, 'generation' | 'modelVersion'>;

/** One write as `Cache.set` and `Cache.setMany` take it: the key, what to store under it, its TTL in seconds (null: none). */
export interface EntryWrite extends SetManyEntry {
  key: CacheKey;
  ttl: number | null;
}

/** How to read one payload back. */
export interface DecodeRules<T> {
  /**
   * Predictions in a layout with generations: the model type's token the read saw (null: the
   * model type has none, so nothing is a hit). Undefined where there are no generations.
   */
  generation?: string | null | undefined;
  /** Only an entry made by this model version is a hit. */
  modelVersion?: string | undefined;
  /** Checked on the value; a failure is a miss and an error event. */
  schema: Schema<T> | undefined;
  /** The public call that reads, named in error events. */
  operation: string;
  /** The caller keeps only the value and freshness: no Date is built (batch reads of 10,000 entries). */
  valuesOnly?: boolean;
}

/**
 * A key shared with the Python service (the `finrisk-python` layout's predictions and features)
 * holds the plain JSON value: no write time, fresh-until time or generation beside it. Every other
 * key holds a {@link StoredEntry}. The key carries this (core writes a `json` key as plain JSON),
 * so that the two can never disagree.
 */
function isPlainJson(key: CacheKey): boolean {
  return key.format === 'json';
}

/** Thrown for a grace period on a value stored as plain JSON, which has no room for its fresh-until time. */
export function graceNeedsEnvelope(): FinRiskCacheError {
  return invalidConfig('grace needs the finrisk key layout: the finrisk-python layout stores plain JSON with no room for the fresh-until time');
}

/**
 * Writes and reads cache-ml's entries, for every kind: the expiry of a write (TTL and grace), the
 * record stored, and the rules that turn a payload read back into a {@link CachedEntry} or a miss.
 * A payload that is not cache-ml's, or fails its schema, is a miss and an error event.
 */
export class EntryCodec {
  readonly #cache: Cache;
  readonly #grace: number;
  readonly #report: (event: MlCacheErrorEvent) => void;

  /** `grace`: the MlCache's default grace period in seconds; `report`: where error events go. */
  constructor(cache: Cache, grace: number, report: (event: MlCacheErrorEvent) => void) {
    this.#cache = cache;
    this.#grace = grace;
    this.#report = report;
  }

  /**
   * Physical TTL in seconds (null: none) and fresh-until time of a write. Throws E_INVALID_VALUE
   * for a bad ttl or grace, E_INVALID_CONFIG for a grace period on a plain JSON key.
   */
  expiry(key: CacheKey, options: WriteOptions): { ttl: number | null; freshUntil: number | undefined } {
    const ttlMs = this.#cache.ttlMs(key.kind, options.ttl);
    const grace = checkGrace(options.grace ?? this.#grace);
    if (grace > 0 && isPlainJson(key)) throw graceNeedsEnvelope();
    if (ttlMs === undefined) return { ttl: null, freshUntil: undefined };
    if (grace === 0) return { ttl: ttlMs / 1000, freshUntil: undefined };
    return { ttl: (ttlMs + grace * 1000) / 1000, freshUntil: Date.now() + ttlMs };
  }

  /** The write of one entry: the envelope record, or on a plain JSON key the value itself. */
  write(key: CacheKey, value: unknown, options: WriteOptions, meta: EntryMeta = {}): EntryWrite {
    const { ttl, freshUntil } = this.expiry(key, options);
    if (isPlainJson(key)) {
      // Nothing can stand beside a plain JSON value: the model version goes inside the
      // prediction, as `model_version`, where the Python service keeps it.
      if (meta.modelVersion !== undefined && modelVersionOf(value as object) !== meta.modelVersion) {
        return { key, value: { ...(value as object), model_version: meta.modelVersion }, ttl };
      }
      return { key, value, ttl };
    }
    const record: StoredEntry<unknown> = { value, cachedAt: Date.now() };
    if (freshUntil !== undefined) record.freshUntil = freshUntil;
    if (meta.generation !== undefined) record.generation = meta.generation;
    if (meta.modelVersion !== undefined) record.modelVersion = meta.modelVersion;
    return { key, value: record, ttl };
  }

  /** Writes one entry; true when stored, false when the backend failed. */
  store(key: CacheKey, value: unknown, options: WriteOptions): Promise<boolean> {
    return this.set(this.write(key, value, options));
  }

  /** Sends one prepared write. */
  set(write: EntryWrite): Promise<boolean> {
    return this.#cache.set(write.key, write.value, { ttl: write.ttl });
  }

  /** Reports a payload that is not what cache-ml wrote, or fails its schema, and answers the miss it is. */
  reportBadPayload(operation: string, key: CacheKey, message: string, code: 'E_PAYLOAD_CORRUPT' | 'E_SCHEMA' = 'E_PAYLOAD_CORRUPT'): null {
    this.#report({ error: new FinRiskCacheError(code, message), operation, kind: key.kind, key: key.key });
    return null;
  }

  /** Turns a decoded payload into an entry; null (and maybe an error event) for a miss. A promise only for an async schema. */
  decode<T>(key: CacheKey, raw: unknown, rules: DecodeRules<T>): CachedEntry<T> | null | Promise<CachedEntry<T> | null> {
    if (raw === null || raw === undefined) return null;
    let value: unknown;
    let cachedAt: Date | null = null;
    let isStale = false;
    let modelVersion: string | undefined;
    if (isPlainJson(key)) {
      if (!isPlainObject(raw)) return this.reportBadPayload(rules.operation, key, `value at ${key.key} is not a JSON object; treated as a miss`);
      value = raw;
      modelVersion = modelVersionOf(raw);
    } else {
      if (!isStoredEntry(raw)) {
        return this.reportBadPayload(rules.operation, key, `value at ${key.key} was not written by @finrisk/cache-ml; treated as a miss`);
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
      if (!outcome.ok) return this.reportBadPayload(rules.operation, key, `${outcome.error.message}; treated as a miss`, 'E_SCHEMA');
      const entry: CachedEntry<T> = { value: outcome.value, cachedAt, isStale };
      if (modelVersion !== undefined) entry.modelVersion = modelVersion;
      return entry;
    };
    const outcome = checkSchemaFast(rules.schema, value, `cached ${key.kind} at ${key.key}`);
    return outcome instanceof Promise ? outcome.then(finish) : finish(outcome);
  }

  /** {@link EntryCodec.decode} of many payloads read together; a promise only for an async schema. */
  decodeAll<T>(keys: readonly CacheKey[], raws: readonly unknown[], rules: DecodeRules<T>): (CachedEntry<T> | null)[] | Promise<(CachedEntry<T> | null)[]> {
    return settleAll(keys.map((key, i) => this.decode(key, raws[i], rules)));
  }

  /**
   * {@link EntryCodec.decode} of an envelope entry found in L1, for a read with no schema or
   * version to match: the fresh value, or null for another generation, a stale value or a foreign
   * payload (reported). Builds no object, because it serves the read a scoring service makes most.
   */
  freshValueOf<T>(key: CacheKey, raw: unknown, generation: string, operation: string): T | null {
    if (!isStoredEntry(raw)) return this.reportBadPayload(operation, key, `value at ${key.key} was not written by @finrisk/cache-ml; treated as a miss`);
    if (raw.generation !== generation || (raw.freshUntil !== undefined && Date.now() >= raw.freshUntil)) return null;
    return raw.value as T;
  }
}
