import type { Cache, CacheKey, FieldEntry } from '@finrisk/cache-core';
import { invalidValue } from './errors.js';
import type { WriteOptions } from './options.js';
import { isStoredEntry, type CachedEntry, type DecodeRules, type EntryCodec, type StoredEntry } from './stored-entry.js';
import { isPlainObject } from './value-checks.js';

/**
 * The field that holds the format version of a customer's features in the `finrisk` layout.
 * U+0001 starts no feature name (refused on write), so it cannot collide with one.
 */
export const FORMAT_FIELD = '\u0001v';

/**
 * The field that holds the order of the features of the last whole-vector write (a JSON array of
 * names). Redis keeps a large hash (over 128 fields, or a value over 64 bytes) in no particular
 * order, and a vector read whole keeps the order it was written in, as a single value did.
 * Features an update added since come after them, by name.
 */
export const ORDER_FIELD = '\u0001o';

/**
 * Format of the `finrisk` layout's features: 1 was one envelope value under the key (a
 * {@link StoredEntry} of the whole vector); 2 is a hash under the same key, one field per feature
 * holding a {@link StoredEntry} of that feature (its value, when it was written, its fresh-until
 * time), plus {@link FORMAT_FIELD}.
 */
export const FEATURE_FORMAT = 2;

/** A customer's features as read: the entry, and when each feature was written (format 2 only). */
export interface FeaturesRead<T> {
  entry: CachedEntry<T> | null;
  /** Write time of each feature, in ms since the epoch; undefined for a format-1 entry. */
  writtenAt?: Map<string, number>;
}

/** Throws E_INVALID_VALUE for a feature name the hash cannot hold (empty, or starting with U+0000 or U+0001). */
export function checkFeatureNames(features: object): void {
  for (const name of Object.keys(features)) {
    if (name.length === 0 || name.charCodeAt(0) <= 1) {
      throw invalidValue(`feature name ${JSON.stringify(name)} is not allowed: names are non-empty and do not start with U+0000 or U+0001`);
    }
  }
}

/**
 * The `finrisk` layout's features as a hash per customer (format 2), read in part (HMGET) or
 * whole, updated in part atomically. An entry of format 1 (one value under the key, written by
 * earlier versions) is read as before; the first partial update converts it, atomically (the
 * write script checks that the key still holds the value read), into a hash of its features, each
 * keeping the old write time; a whole-vector write replaces it.
 */
export class FeatureFields {
  readonly #cache: Cache;
  readonly #entries: EntryCodec;

  constructor(cache: Cache, entries: EntryCodec) {
    this.#cache = cache;
    this.#entries = entries;
  }

  /** The fields of one write: the format version, then each feature as a StoredEntry of its own. */
  #fields(features: object, cachedAt: number, freshUntil: number | undefined, fieldTtl: number | null | undefined): FieldEntry[] {
    const fields: FieldEntry[] = [{ field: FORMAT_FIELD, value: FEATURE_FORMAT }];
    for (const [name, value] of Object.entries(features)) {
      const record: StoredEntry<unknown> = { value, cachedAt };
      if (freshUntil !== undefined) record.freshUntil = freshUntil;
      fields.push(fieldTtl === undefined ? { field: name, value: record } : { field: name, value: record, ttl: fieldTtl });
    }
    return fields;
  }

  /** Replaces a customer's whole vector (and an entry of format 1). */
  writeWhole(key: CacheKey, features: object, options: WriteOptions): Promise<boolean> {
    checkFeatureNames(features);
    const { ttl, freshUntil } = this.#entries.expiry(key, options);
    const fields = this.#fields(features, Date.now(), freshUntil, undefined);
    fields.push({ field: ORDER_FIELD, value: Object.keys(features) });
    return this.#cache.setFields(key, fields, { ttl, replace: true });
  }

  /**
   * Updates some features, atomically: each gets `ttl` (and grace) of its own, the key lives at
   * least as long; the others stay as they are.
   */
  update(key: CacheKey, partial: object, options: WriteOptions): Promise<boolean> {
    checkFeatureNames(partial);
    const { ttl, freshUntil } = this.#entries.expiry(key, options);
    const fromPlain = (old: unknown): FieldEntry[] => {
      // A format-1 entry: its features keep their write time and fresh-until time. A payload that
      // is not cache-ml's is dropped (a read would have been a miss).
      if (!isStoredEntry(old) || !isPlainObject(old.value)) return [];
      return this.#fields(old.value, old.cachedAt, old.freshUntil, undefined).slice(1);
    };
    return this.#cache.setFields(key, this.#fields(partial, Date.now(), freshUntil, ttl), { ttl, fromPlain });
  }

  /**
   * Reads customers' features (one round trip; a format-1 entry costs a second), `only` some
   * of them. An entry holds the features found (those past their own TTL are missing); null for
   * a customer with none of them. Its write time is the oldest of its features', it is stale
   * when one of them is; the schema is checked on whole vectors only.
   */
  async read<T>(keys: readonly CacheKey[], only: readonly string[] | undefined, rules: DecodeRules<T>): Promise<FeaturesRead<T>[]> {
    const reads = await this.#cache.getFields<unknown>(keys, only === undefined ? {} : { fields: [...only, FORMAT_FIELD] });
    return Promise.all(
      reads.map(async (read, i): Promise<FeaturesRead<T>> => {
        const key = keys[i]!;
        if (read === null) return { entry: null };
        if (read.fields === undefined) {
          const entry = await this.#entries.decode(key, read.plain, rules);
          if (entry === null || only === undefined) return { entry };
          return { entry: { ...entry, value: pick(entry.value as object, only) as T } };
        }
        const version = read.fields.get(FORMAT_FIELD);
        const order = read.fields.get(ORDER_FIELD);
        read.fields.delete(FORMAT_FIELD);
        read.fields.delete(ORDER_FIELD);
        if (read.fields.size === 0) return { entry: null };
        if (version !== FEATURE_FORMAT) {
          return { entry: this.#entries.reportBadPayload(rules.operation, key, `features at ${key.key} are of format ${String(version)}, which this version does not read; treated as a miss`) };
        }
        const value: Record<string, unknown> = {};
        const writtenAt = new Map<string, number>();
        let cachedAt = Infinity;
        let freshUntil: number | undefined;
        for (const name of ordered(read.fields, only ?? order)) {
          const record = read.fields.get(name);
          if (!isStoredEntry(record)) {
            this.#entries.reportBadPayload(rules.operation, key, `feature ${JSON.stringify(name)} at ${key.key} was not written by @finrisk/cache-ml; left out`);
            continue;
          }
          setOwn(value, name, record.value);
          writtenAt.set(name, record.cachedAt);
          cachedAt = Math.min(cachedAt, record.cachedAt);
          if (record.freshUntil !== undefined) freshUntil = Math.min(freshUntil ?? Infinity, record.freshUntil);
        }
        if (writtenAt.size === 0) return { entry: null };
        // The vector as one format-1 record, so that staleness and the schema are decided where they always were.
        const whole: StoredEntry<unknown> = { value, cachedAt };
        if (freshUntil !== undefined) whole.freshUntil = freshUntil;
        const entry = await this.#entries.decode(key, whole, only === undefined ? rules : { ...rules, schema: undefined });
        return { entry, writtenAt };
      }),
    );
  }
}

/** The names of `fields`: those of `order` first (when it is a list of names), then the others by name. */
function ordered(fields: Map<string, unknown>, order: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  if (Array.isArray(order)) {
    for (const name of order) {
      if (typeof name === 'string' && fields.has(name) && !seen.has(name)) {
        out.push(name);
        seen.add(name);
      }
    }
  }
  if (out.length === fields.size) return out;
  return out.concat([...fields.keys()].filter((name) => !seen.has(name)).sort());
}

/** The features of `value` named in `only`, in that order (own fields only: the value was read from Redis). */
export function pick(value: object, only: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of only) if (Object.hasOwn(value, name)) setOwn(out, name, (value as Record<string, unknown>)[name]);
  return out;
}

/** Sets a field of a plain object as its own, a name such as `__proto__` included (it would set the prototype by assignment). */
function setOwn(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}
