import { LRUCache } from 'lru-cache';
import type { L1Config } from '../config.js';
import type { CacheKey } from '../keys.js';
import type { KindStatsRegistry } from '../kind-stats.js';
import type { Hold } from '../value-pipeline.js';

/** What a lookup answers when L1 does not have the key. */
export const L1_MISS: unique symbol = Symbol('l1-miss');

/** One entry: a frozen value handed out as it is, a private copy cloned per hit, or bytes decoded per hit. */
interface Entry {
  readonly kind: string;
  /** The shared, frozen value (when `how` is 'shared'), or the private copy each hit clones ('clone'). */
  readonly value: unknown;
  readonly how: 'shared' | 'clone' | 'decode';
  /** An uncompressed envelope, decoded per hit ('decode'). */
  readonly bytes: Uint8Array | undefined;
  /** Bytes counted against the cap. */
  readonly size: number;
  /** Values derived from this one (a decoded table under its manifest), by tag. */
  attached?: Map<string, { value: unknown; size: number }>;
}

/** A read that will fill L1 when its reply comes, unless an invalidation arrives first. */
export interface Fill {
  readonly key: string;
  readonly epoch: number;
  readonly version: number;
}

/** Per-entry bookkeeping of lru-cache and of the entry itself. */
const ENTRY_OVERHEAD = 160;

/**
 * The in-process tier: an LRU bounded by bytes, with a cap per entry and a lifetime per entry
 * (never past the key's TTL in Redis, never past `maxTtlMs`). It serves only while Redis keeps it
 * coherent: {@link LocalTier.suspend} (tracking lost) empties it and stops serving until
 * {@link LocalTier.resume} (tracking re-established), and both start a new epoch, so that a read
 * that started before either never fills it.
 *
 * A read that races an invalidation never puts the old value back: a read registers a pending
 * fill before it is sent, an invalidation of that key bumps the pending version, and the reply is
 * kept only if the version is unchanged.
 */
export class LocalTier {
  readonly #config: L1Config;
  readonly #stats: KindStatsRegistry;
  readonly #lru: LRUCache<string, Entry>;
  readonly #pending = new Map<string, { version: number; readers: number }>();
  readonly #maxEntryBytes: number;
  readonly #kinds: ReadonlySet<string> | '*';
  /** The key prefixes Redis tracks for L1: a key outside them is never held, whatever its kind. */
  readonly prefixes: readonly string[];
  #epoch = 0;
  #serving = false;
  #bytes = 0;

  /**
   * @param keyPrefix the cache's key prefix (`CACHE_KEY_PREFIX`)
   * @param pythonLayout true when the cache uses the finrisk-python layout: its key spaces are tracked too
   */
  constructor(config: L1Config, keyPrefix: string, stats: KindStatsRegistry, pythonLayout = false) {
    this.#config = config;
    this.#stats = stats;
    this.#maxEntryBytes = Math.min(config.maxEntryBytes, config.maxBytes);
    this.#kinds = config.kinds === '*' ? '*' : new Set(config.kinds.includes('prediction') ? [...config.kinds, 'generation'] : config.kinds);
    this.prefixes = trackedPrefixes(this.#kinds, keyPrefix, pythonLayout);
    this.#lru = new LRUCache<string, Entry>({
      maxSize: config.maxBytes,
      maxEntrySize: this.#maxEntryBytes,
      sizeCalculation: (entry) => entry.size,
      ttl: config.maxTtlMs,
      // An expired entry is never served: lru-cache checks the time on every get.
      allowStale: false,
      updateAgeOnGet: false,
      dispose: (entry, _key, reason) => this.#dropped(entry, reason),
    });
  }

  /** True while L1 serves reads (Redis is tracking for it). */
  get isServing(): boolean {
    return this.#serving;
  }

  /** Bytes held now (as counted against the cap). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The largest value a fill may hold, in bytes as {@link Hold} counts them (the per-entry cap
   * less the entry's own bookkeeping): a reader measures against it before it freezes or copies
   * a value, so that a value over the cap costs no copy and is not changed.
   */
  get maxValueBytes(): number {
    return this.#maxEntryBytes - ENTRY_OVERHEAD;
  }

  /** True when reads of `ref` go through L1: its kind is held, and it is not marked to bypass it. */
  covers(ref: CacheKey): boolean {
    if (ref.local === false || (this.#kinds !== '*' && !this.#kinds.has(ref.kind))) return false;
    // A key Redis does not track for L1 (a hand-built key of another layout) would never be invalidated.
    const prefixes = this.prefixes;
    for (let i = 0; i < prefixes.length; i++) if (ref.key.startsWith(prefixes[i]!)) return true;
    return false;
  }

  /**
   * The value L1 holds for `ref`, or {@link L1_MISS}. Counts the L1 hit or miss of the kind
   * (bookkeeping keys are not counted). A held value is shared and frozen; `decode` turns held
   * bytes into a fresh value.
   */
  read(ref: CacheKey, decode: (bytes: Uint8Array) => unknown, countMiss = true): unknown {
    const entry = this.#serving ? this.#lru.get(ref.key) : undefined;
    if (!ref.internal) {
      const stats = this.#stats.of(ref.kind);
      if (entry !== undefined) stats.l1Hits++;
      else if (countMiss) stats.l1Misses++;
    }
    if (entry === undefined) return L1_MISS;
    return entry.how === 'shared' ? entry.value : entry.how === 'clone' ? structuredClone(entry.value) : decode(entry.bytes!);
  }

  /** Registers a read of `key` about to be sent, so that an invalidation meanwhile is noticed. */
  startFill(key: string): Fill {
    const pending = this.#pending.get(key);
    if (pending) {
      pending.readers++;
      return { key, epoch: this.#epoch, version: pending.version };
    }
    this.#pending.set(key, { version: 0, readers: 1 });
    return { key, epoch: this.#epoch, version: 0 };
  }

  /**
   * Ends a read started with {@link LocalTier.startFill}: keeps its value when nothing
   * invalidated the key since (and L1 is still in the same epoch), for at most `ttlMs`.
   * `held` is the frozen value, the private copy cloned per hit, or the bytes decoded per hit,
   * each with what it costs once decoded ({@link Hold}); one over the per-entry cap is not kept.
   */
  finishFill(fill: Fill, kind: string, held: Hold, ttlMs: number | undefined): void {
    const pending = this.#pending.get(fill.key);
    if (pending && --pending.readers === 0) this.#pending.delete(fill.key);
    if (!this.#serving || fill.epoch !== this.#epoch || (pending?.version ?? -1) !== fill.version) return;
    // A key about to expire is not worth holding; -1 (no expiry) means only the L1 lifetime.
    if (ttlMs !== undefined && ttlMs < 1) return;
    const size = held.size + ENTRY_OVERHEAD;
    if (!(size <= this.#maxEntryBytes)) return;
    const entry: Entry =
      'bytes' in held
        ? { kind, how: 'decode', value: undefined, bytes: held.bytes, size }
        : 'pristine' in held
          ? { kind, how: 'clone', value: held.pristine, bytes: undefined, size }
          : { kind, how: 'shared', value: held.value, bytes: undefined, size };
    this.#lru.set(fill.key, entry, { size, ttl: ttlMs === undefined ? this.#config.maxTtlMs : Math.min(ttlMs, this.#config.maxTtlMs) });
    if (this.#lru.has(fill.key)) {
      this.#bytes += size;
      this.#stats.of(kind).l1Bytes += size;
    }
  }

  /** Abandons a read started with {@link LocalTier.startFill} (it failed: nothing to keep). */
  abandonFill(fill: Fill): void {
    const pending = this.#pending.get(fill.key);
    if (pending && --pending.readers === 0) this.#pending.delete(fill.key);
  }

  /** A value derived from the entry of `key` (a decoded table under its manifest), or undefined. */
  attachment(key: string, tag: string): unknown {
    if (!this.#serving) return undefined;
    return this.#lru.get(key)?.attached?.get(tag)?.value;
  }

  /**
   * Keeps a value derived from the entry of `key`, dropped with it (invalidated, evicted,
   * expired). Nothing is kept when the entry is not in L1 any more, or the value is over the
   * per-entry cap; the entry's size grows by `size`.
   */
  attach(key: string, tag: string, value: unknown, size: number): boolean {
    if (!this.#serving) return false;
    const entry = this.#lru.get(key);
    if (!entry) return false;
    const previous = entry.attached?.get(tag)?.size ?? 0;
    const total = entry.size + size - previous;
    if (total > this.#maxEntryBytes) return false;
    const ttl = this.#lru.getRemainingTTL(key);
    if (ttl <= 0) return false;
    const attached = new Map(entry.attached ?? []);
    attached.set(tag, { value, size });
    // A new entry object replaces the old one (its dispose keeps the byte count exact).
    this.#lru.set(key, { ...entry, size: total, attached }, { size: total, ttl: Number.isFinite(ttl) ? ttl : this.#config.maxTtlMs });
    if (!this.#lru.has(key)) return false;
    this.#bytes += total;
    this.#stats.of(entry.kind).l1Bytes += total;
    return true;
  }

  /** Removes `key` (someone changed it), and makes a read of it in flight keep nothing. */
  invalidate(key: string): void {
    const pending = this.#pending.get(key);
    if (pending) pending.version++;
    const entry = this.#lru.peek(key);
    if (entry === undefined) return;
    this.#stats.of(entry.kind).l1Invalidations++;
    this.#lru.delete(key);
  }

  /** Tracking is lost: empty L1 and serve nothing until {@link LocalTier.resume}. */
  suspend(): void {
    this.#serving = false;
    this.#flush();
  }

  /** Tracking is (re-)established: start empty, in a new epoch, and serve. */
  resume(): void {
    this.#flush();
    this.#serving = true;
  }

  /** Redis said every key changed (FLUSHDB, FLUSHALL): empty L1, keep serving. */
  invalidateAll(): void {
    for (const pending of this.#pending.values()) pending.version++;
    this.#flush();
  }

  #flush(): void {
    this.#epoch++;
    for (const entry of this.#lru.values()) this.#stats.of(entry.kind).l1Invalidations++;
    this.#lru.clear();
  }

  #dropped(entry: Entry, reason: LRUCache.DisposeReason): void {
    this.#bytes -= entry.size;
    const stats = this.#stats.of(entry.kind);
    stats.l1Bytes -= entry.size;
    if (reason === 'evict') stats.l1Evictions++;
  }
}

/**
 * The key prefixes L1 asks Redis to track (BCAST prefixes must not overlap): one per kind held
 * (all of the cache's keys for `*`), and, when the cache uses the finrisk-python layout, the
 * Python service's key spaces (`prediction:`, `features:`) for the kinds held. Keys outside them
 * are never held (an MlCache that picks the Python layout on a cache that does not use it reads
 * those keys from Redis every time): Redis 7 refuses to track a prefix an ACL user cannot read.
 */
function trackedPrefixes(kinds: ReadonlySet<string> | '*', keyPrefix: string, pythonLayout: boolean): string[] {
  const prefixes = kinds === '*' ? [`${keyPrefix}:`] : [...kinds].map((k) => `${keyPrefix}:${k}:`);
  if (pythonLayout && (kinds === '*' || kinds.has('prediction'))) prefixes.push('prediction:');
  if (pythonLayout && (kinds === '*' || kinds.has('feature'))) prefixes.push('features:');
  return prefixes;
}
