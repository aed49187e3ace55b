import type { KeyInput } from './cache-types.js';
import { FinRiskCacheError } from './errors.js';
import type { CacheKey } from './keys.js';
import type { KindStatsRegistry } from './kind-stats.js';
import { pythonJsonDumps } from './python-json.js';
import type { OperationPolicy } from './operation-policy.js';
import { isHashStore, type HashFieldWrite, type HashStore } from './stores/hash-store.js';
import type { CacheStore } from './stores/store.js';
import type { TieredStore } from './tiered-store.js';
import type { ValuePipeline } from './value-pipeline.js';

/** Keys per store call of a batch read, and calls in flight at once: getMany's. */
const CHUNK = 1000;
const WINDOW = 8;

/** One field of {@link Cache.setFields}. */
export interface FieldEntry {
  /** The field's name: not empty, not starting with U+0000 (E_INVALID_KEY). */
  field: string;
  /** Any value the cache can store; encoded (and compressed, encrypted) on its own. */
  value: unknown;
  /**
   * Seconds this field lives on its own (fractions allowed, at least 1 ms): after it the field
   * reads as missing while the others stay. undefined or null: as long as the key.
   */
  ttl?: number | null | undefined;
}

/** Options of {@link Cache.setFields}. */
export interface SetFieldsOptions {
  /**
   * Seconds the key lives at least: a new key gets this TTL, an existing one is only ever
   * lengthened to it (with `replace`: set to it). null: a new key never expires.
   * @default the TTL of the key's kind
   */
  ttl?: number | null;
  /** Drop every field the key held, and a plain value under it, before writing. @default false */
  replace?: boolean;
  /** false: store the fields uncompressed whatever their size. @default true */
  compress?: boolean;
  /**
   * For a key that still holds a plain value (a format older than fields): the fields it stands
   * for, given its decoded value. They are written in the same atomic step as this write's, which
   * win over them. Without it, a write to such a key fails (false) and leaves it as it is.
   */
  fromPlain?: (value: unknown) => readonly FieldEntry[];
}

/** Options of {@link Cache.getFields}. */
export interface GetFieldsOptions {
  /** Read only these fields (HMGET). @default every field (HGETALL) */
  fields?: readonly string[];
  /** Throw the backend's failure instead of answering null for it. @default false */
  throwOnFailure?: boolean;
}

/** One key as {@link Cache.getFields} read it: its live fields, decoded, or the value of a key that holds a plain value. */
export type FieldsRead<T> = { fields: Map<string, T>; plain?: undefined } | { plain: unknown; fields?: undefined };

/** What {@link CacheFields} needs of the cache it serves. */
export interface CacheFieldsParts {
  policy: OperationPolicy;
  values: ValuePipeline;
  stats: KindStatsRegistry;
  /** L1 and the rule for writes: a field write drops the whole key from L1, like any write of it. */
  tiers: TieredStore;
  ref: (key: KeyInput) => CacheKey;
  ttlMs: (kind: string, ttl: number | null | undefined) => number | undefined;
}

/**
 * Keys that hold named fields (a hash per entity: a customer's features), for {@link Cache}'s
 * field methods: each field is a value of its own, encoded, compressed and encrypted on its own;
 * a field's ciphertext is bound to the key and the field's name, so that it does not decrypt
 * moved to another field. Field reads bypass L1 (they are read from the store every time), so a
 * partial update by any process is seen at once; writes drop the key from this process's L1.
 */
export class CacheFields {
  readonly #p: CacheFieldsParts;

  constructor(parts: CacheFieldsParts) {
    this.#p = parts;
  }

  /** The ref of one field's value: the key and the field name, U+0000 between (a name cannot hold it). */
  #fieldRef(ref: CacheKey, field: string): CacheKey {
    return { kind: ref.kind, key: `${ref.key}\u0000${field}`, internal: true };
  }

  #hashStore(store: CacheStore): CacheStore & HashStore {
    if (!isHashStore(store)) throw new FinRiskCacheError('E_INVALID_CONFIG', `the ${store.backend} store has no hash operations`);
    return store;
  }

  async #encode(ref: CacheKey, entries: readonly FieldEntry[], compress: boolean | undefined): Promise<HashFieldWrite[]> {
    if (ref.format === 'json') throw new FinRiskCacheError('E_INVALID_KEY', `${ref.key} holds plain JSON shared with the Python service; merge into it with mergeJson`);
    return Promise.all(
      entries.map(async (e) => {
        const ttlMs = e.ttl === undefined || e.ttl === null ? undefined : this.#p.ttlMs(ref.kind, e.ttl);
        return { field: e.field, value: await this.#p.values.encode(this.#fieldRef(ref, e.field), e.value, compress), ttlMs };
      }),
    );
  }

  async get<T>(keys: readonly KeyInput[], options: GetFieldsOptions = {}): Promise<(FieldsRead<T> | null)[]> {
    const refs = keys.map((k) => this.#p.ref(k));
    if (refs.length <= CHUNK) return this.#getChunk<T>(refs, options);
    // A large batch as chunks of 1,000 keys, a few in flight, each under its own deadline (as getMany).
    const out: (FieldsRead<T> | null)[] = [];
    for (let start = 0; start < refs.length; start += CHUNK * WINDOW) {
      const window = [];
      for (let c = start; c < Math.min(refs.length, start + CHUNK * WINDOW); c += CHUNK) window.push(this.#getChunk<T>(refs.slice(c, c + CHUNK), options));
      for (const chunk of await Promise.all(window)) out.push(...chunk);
    }
    return out;
  }

  async #getChunk<T>(refs: readonly CacheKey[], options: GetFieldsOptions): Promise<(FieldsRead<T> | null)[]> {
    if (refs.length === 0) return [];
    const fields = options.fields;
    const read = (store: CacheStore) => this.#hashStore(store).hashRead(refs.map((r) => r.key), fields);
    const kind = refs[0]!.kind;
    let raws: Awaited<ReturnType<HashStore['hashRead']>> | null;
    if (options.throwOnFailure) {
      const outcome = await this.#p.policy.attempt('getFields', kind, refs.length === 1 ? refs[0]!.key : undefined, read);
      if (!outcome.ok) throw outcome.error;
      raws = outcome.value;
    } else raws = await this.#p.policy.run('getFields', kind, refs.length === 1 ? refs[0]!.key : undefined, null, read);
    if (raws === null) return refs.map(() => null);
    return Promise.all(
      refs.map(async (ref, i): Promise<FieldsRead<T>> => {
        const raw = raws[i]!;
        if (!(raw instanceof Map)) return { plain: await this.#p.values.decode(ref, raw, 'getFields') };
        this.#p.stats.read(ref, raw.size > 0);
        const out = new Map<string, T>();
        await Promise.all(
          [...raw].map(async ([field, bytes]) => {
            const value = await this.#p.values.decode<T>(this.#fieldRef(ref, field), bytes, 'getFields');
            if (value !== null) out.set(field, value);
          }),
        );
        // The order the store gave (HMGET's: the caller's), not the order decodes finished in.
        return { fields: new Map([...raw.keys()].filter((f) => out.has(f)).map((f) => [f, out.get(f)!])) };
      }),
    );
  }

  async set(key: KeyInput, entries: readonly FieldEntry[], options: SetFieldsOptions = {}): Promise<boolean> {
    const ref = this.#p.ref(key);
    const fields = await this.#encode(ref, entries, options.compress);
    const ttlMs = this.#p.ttlMs(ref.kind, options.ttl);
    const ok = await this.#p.tiers.write(ref.key, () => this.#p.policy.run('setFields', ref.kind, ref.key, false, async (s) => {
      const store = this.#hashStore(s);
      const write = { ttlMs, replace: options.replace === true };
      // Two tries at most: a key converted meanwhile by another process is a plain write the second time.
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await store.hashWrite(ref.key, fields, write)) return true;
        if (!options.fromPlain) return false;
        const [plain] = await store.hashRead([ref.key]);
        if (plain instanceof Map) continue; // converted by another process: written as a hash next time
        const value = await this.#p.values.decode(ref, plain ?? null, 'setFields');
        const converted = value === null ? [] : await this.#encode(ref, options.fromPlain(value), options.compress);
        if (await store.hashWrite(ref.key, fields, { ...write, convert: { expect: plain!, fields: converted } })) return true;
      }
      return false;
    }));
    this.#p.stats.wrote(ref.kind, ok);
    return ok;
  }

  async delete(key: KeyInput, fields: readonly string[]): Promise<number | null> {
    const ref = this.#p.ref(key);
    return this.#p.tiers.write(ref.key, () =>
      this.#p.policy.run<number | null>('deleteFields', ref.kind, ref.key, null, (s) => this.#hashStore(s).hashDelete(ref.key, fields)),
    );
  }

  async mergeJson(key: KeyInput, patch: object, options: { ttl?: number | null } = {}): Promise<boolean> {
    const ref = this.#p.ref(key);
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new FinRiskCacheError('E_INVALID_VALUE', 'a JSON merge takes a plain object');
    const bytes = Buffer.from(pythonJsonDumps(patch), 'utf8');
    const ttlMs = this.#p.ttlMs(ref.kind, options.ttl);
    const ok = await this.#p.tiers.write(ref.key, () =>
      this.#p.policy.run('mergeJson', ref.kind, ref.key, false, async (s) => {
        await this.#hashStore(s).jsonMerge(ref.key, bytes, { ttlMs });
        return true;
      }),
    );
    this.#p.stats.wrote(ref.kind, ok);
    return ok;
  }
}
