import { CacheFields, type FieldEntry, type FieldsRead, type GetFieldsOptions, type SetFieldsOptions } from './cache-fields.js';
import { Backend } from './backend.js';
import { Bulk, checkTimeout, type PreparedEntry } from './bulk.js';
import type {
  CacheErrorEvent,
  CacheEvents,
  CacheLogger,
  ConnectionCheck,
  CreateCacheOptions,
  KeyInput,
  KeyPrefix,
  BulkResult,
  GetManyOptions,
  LocalAttachments,
  PrefixOptions,
  SetManyEntry,
  SetManyOptions,
  SetOptions,
} from './cache-types.js';
import { resolveConfig, type CacheConfig, type TtlConfig } from './config.js';
import { FinRiskCacheError, toCacheError } from './errors.js';
import { readFleetStats, type FleetStats } from './fleet-stats.js';
import { Health } from './health.js';
import { KeySchema, type CacheKey } from './keys.js';
import { KindStatsRegistry, operationKind } from './kind-stats.js';
import { PrefixWatch, type KeyWatch } from './key-watch.js';
import { OperationPolicy } from './operation-policy.js';
import type { CacheStats, CacheStatus } from './stats.js';
import { StatsPublisher } from './stats-publisher.js';
import { collectStats } from './stats-report.js';
import { capabilitiesOf } from './stores/capabilities.js';
import type { RedisClient } from './stores/redis-store.js';
import type { CacheStore } from './stores/store.js';
import { TieredStore } from './tiered-store.js';
import { TypedEmitter } from './typed-emitter.js';
import { ValuePipeline } from './value-pipeline.js';

export type {
  CacheErrorEvent,
  CacheEvents,
  CacheLogger,
  ConnectionCheck,
  CreateCacheOptions,
  KeyInput,
  KeyPrefix,
  LocalAttachments,
  OperationEvent,
  BulkResult,
  PrefixOptions,
  GetManyOptions,
  SetManyEntry,
  SetManyOptions,
  SetOptions,
} from './cache-types.js';

/** Keys per SCAN page and per UNLINK of a prefix delete. */
const SCAN_BATCH = 1000;

const KIND_TTL: Record<string, keyof TtlConfig> = {
  prediction: 'prediction',
  feature: 'feature',
  model: 'model',
  artifact: 'model',
  dataframe: 'dataframe',
};

const defaultLogger: CacheLogger = { warn: (message) => process.stderr.write(`${message}\n`) };

/**
 * A cache on one store. Backend failures never reach the caller (unless `strict`): reads are
 * misses, writes answer false, and listeners hear about it. Invalid input always throws.
 *
 * This class is the API front; each job behind it has a file of its own, in the order a value
 * travels: the tiered store (tiered-store.ts: L1, its fills, and L1 around every write), the bulk
 * window (bulk.ts: chunks of getMany and setMany), the operation policy (operation-policy.ts:
 * breaker, failures, operation stats and events) in front of the store that {@link Backend}
 * resolved (backend.ts: choice and fallback; stores/capabilities.ts: what a store offers beyond
 * the contract), and the value pipeline (value-pipeline.ts: encode, encrypt, decode, hits and
 * misses). Health (health.ts) and per-kind counters (kind-stats.ts) are shared by them; the
 * fleet-statistics publisher (stats-publisher.ts) runs beside them.
 */
export class Cache {
  /** The resolved configuration. */
  readonly config: CacheConfig;
  /** Builds every key under this cache's prefix. */
  readonly keys: KeySchema;
  readonly #logger: CacheLogger;
  readonly #events = new TypedEmitter<CacheEvents>(['error', 'degraded', 'recovered', 'operation']);
  readonly #stats = new KindStatsRegistry();
  readonly #health: Health;
  readonly #backend: Backend;
  readonly #policy: OperationPolicy;
  readonly #values: ValuePipeline;
  readonly #bulk: Bulk;
  /** L1 in front of the store: its fills, and the rule for writes. */
  readonly #tiers: TieredStore;
  readonly #publisher: StatsPublisher;
  /** Prefixes watched for packages built on the cache (key-watch.ts); started when the store is known. */
  readonly #watches = new Set<PrefixWatch>();
  /** Set by close(): a watch asked for afterwards never connects (nothing would close it). */
  #watchesClosed = false;
  readonly #fields: CacheFields;

  constructor(options: CreateCacheOptions = {}) {
    this.config = resolveConfig(options);
    this.keys = new KeySchema(this.config.keyPrefix);
    this.#logger = options.logger ?? defaultLogger;
    const report = (event: CacheErrorEvent) => this.#report(event);
    this.#health = new Health(this.#events, () => this.#backend.store?.backend ?? this.config.backend);
    this.#backend = new Backend(this.config, this.#health, this.#logger, options.store, (store) => this.#storeResolved(store));
    this.#policy = new OperationPolicy(this.config, this.#backend, this.#health, this.#stats, this.#events, report);
    this.#values = new ValuePipeline(this.config, this.#stats, report);
    this.#bulk = new Bulk(this.#policy, this.#values, this.#stats);
    this.#tiers = new TieredStore({ config: this.config, stats: this.#stats, policy: this.#policy, values: this.#values, bulk: this.#bulk, logger: this.#logger, report });
    this.#publisher = new StatsPublisher(this.config, {
      fleet: () => capabilitiesOf(this.#backend.store).fleet,
      isCircuitOpen: () => this.#policy.breaker.state === 'open',
      processStats: () => this.processStats(),
    });
    this.#fields = new CacheFields({ policy: this.#policy, values: this.#values, stats: this.#stats, tiers: this.#tiers, ref: (k) => this.#ref(k), ttlMs: (kind, ttl) => this.ttlMs(kind, ttl) });
  }

  /** The store is known: fleet statistics start, and L1 starts hearing Redis's invalidations (or says why it cannot). */
  #storeResolved(store: CacheStore): void {
    if (capabilitiesOf(store).fleet) this.#publisher.start();
    for (const watch of this.#watches) watch.start(store);
    this.#tiers.start(store);
  }

  // ---------------------------------------------------------------- reads

  /** Reads a value; null when missing, expired, undecodable, or the backend failed. */
  get<T = unknown>(key: KeyInput): Promise<T | null> {
    // Not async: an L1 hit costs one promise, the tiered store's. An invalid key still rejects.
    let ref: CacheKey;
    try {
      ref = this.#ref(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#tiers.get<T>(ref);
  }

  /**
   * Reads a value and restarts its time to live (sliding expiry), in one round trip.
   * @param ttl seconds. @default the kind's TTL
   */
  async getAndTouch<T = unknown>(key: KeyInput, options: SetOptions = {}): Promise<T | null> {
    const ref = this.#ref(key);
    const ttlMs = this.ttlMs(ref.kind, options.ttl);
    // It changes the key's TTL, which bounds how long L1 may hold it: a write for L1.
    const payload = await this.#tiers.write(ref.key, () =>
      this.#policy.run('getAndTouch', ref.kind, ref.key, null, (s) => (ttlMs === undefined ? s.get(ref.key) : s.getAndTouch(ref.key, ttlMs))),
    );
    return this.#values.decode<T>(ref, payload, 'getAndTouch');
  }

  /**
   * Reads many keys in one round trip: one MGET, or for more than 1,000 keys one MGET per 1,000
   * written together as a pipeline (each counts as an operation in stats and events, under the
   * kind of its first key that is not the SDK's bookkeeping). Values in the order of `keys`; null
   * for misses and for a chunk whose read failed (unless `throwOnFailure`).
   */
  async getMany<T = unknown>(keys: readonly KeyInput[], options: GetManyOptions = {}): Promise<(T | null)[]> {
    const refs = keys.map((k) => this.#ref(k));
    const call = { timeoutMs: checkTimeout(options.timeoutMs), throwOnFailure: options.throwOnFailure === true };
    return this.#tiers.getMany<T>(refs, call);
  }

  /** True when the key exists; false when it does not or the backend failed. */
  async exists(key: KeyInput): Promise<boolean> {
    const ref = this.#ref(key);
    return this.#policy.run('exists', ref.kind, ref.key, false, (s) => s.exists(ref.key));
  }

  /**
   * Remaining time to live in whole seconds (rounded up), -1 when the key never expires, -2 when
   * it does not exist; null when the backend failed.
   */
  async ttl(key: KeyInput): Promise<number | null> {
    const ms = await this.pttl(key);
    return ms === null || ms < 0 ? ms : Math.ceil(ms / 1000);
  }

  /** Like {@link Cache.ttl}, in milliseconds. */
  async pttl(key: KeyInput): Promise<number | null> {
    const ref = this.#ref(key);
    return this.#policy.run<number | null>('ttl', ref.kind, ref.key, null, (s) => s.ttl(ref.key));
  }

  /** Reads a counter written by {@link Cache.incr}; 0 when it does not exist, null when the backend failed. */
  async getCounter(key: KeyInput): Promise<number | null> {
    const ref = this.#ref(key);
    return this.#policy.run<number | null>('getCounter', ref.kind, ref.key, null, async (s) => {
      const raw = await s.get(ref.key);
      return raw === null ? 0 : Number(Buffer.from(raw).toString('utf8'));
    });
  }

  // ---------------------------------------------------------------- writes

  // ---------------------------------------------------------------- fields (cache-fields.ts)

  /**
   * Reads keys that hold named fields (a hash per entity), in one round trip: only
   * `options.fields` when given (HMGET), else every field. Per key, in the order of `keys`: its
   * live fields decoded (an empty Map for a missing key; a field that does not decode is left out
   * and reported), or `{ plain }`, the decoded value of a key that still holds a plain value
   * (written before it held fields; a second round trip on Redis); null when the backend failed.
   * Always read from the store, never from L1.
   */
  getFields<T = unknown>(keys: readonly KeyInput[], options?: GetFieldsOptions): Promise<(FieldsRead<T> | null)[]> {
    return this.#fields.get<T>(keys, options);
  }

  /**
   * Writes fields of one key in one atomic step: writers of other fields, in this process or
   * another, keep theirs. Each field is encoded (compressed, encrypted) on its own and may have
   * its own TTL. True when written; false when the backend failed, or the key holds a plain value
   * and `fromPlain` is not given. Throws E_INVALID_KEY for a reserved or empty field name.
   */
  setFields(key: KeyInput, fields: readonly FieldEntry[], options?: SetFieldsOptions): Promise<boolean> {
    return this.#fields.set(key, fields, options);
  }

  /** Deletes fields of a key; how many existed, null when the backend failed. */
  deleteFields(key: KeyInput, fields: readonly string[]): Promise<number | null> {
    return this.#fields.delete(key, fields);
  }

  /**
   * Merges `patch`'s members into the JSON object stored as plain JSON under `key` (a key shared
   * with the Python service), atomically on the server; the key is created when missing.
   * @param options.ttl seconds the key lives at least (only ever lengthened). @default the kind's TTL
   */
  mergeJson(key: KeyInput, patch: object, options?: { ttl?: number | null }): Promise<boolean> {
    return this.#fields.mergeJson(key, patch, options);
  }

  /** Writes a value; true when stored, false when the backend failed. */
  async set(key: KeyInput, value: unknown, options: SetOptions = {}): Promise<boolean> {
    const ref = this.#ref(key);
    const ttlMs = this.ttlMs(ref.kind, options.ttl);
    let payload = this.#values.encode(ref, value, options.compress);
    if (payload instanceof Promise) payload = await payload;
    const bytes = payload;
    // A plain SET always answers true from every store; false comes from the fallback.
    const ok = await this.#tiers.write(ref.key, () => this.#policy.run('set', ref.kind, ref.key, false, (s) => s.set(ref.key, bytes, { ttlMs })));
    this.#stats.wrote(ref.kind, ok);
    return ok;
  }

  /**
   * Writes many entries as pipelines of SETs (not a transaction): one round trip for up to 1,000
   * entries, and for more, pipelines of 1,000 with a few in flight at once, each under its own
   * deadline. True when all were stored; after a failed pipeline no further one is sent, and the
   * entries already written stay (each is a complete value).
   */
  async setMany(entries: readonly SetManyEntry[], options: SetManyOptions = {}): Promise<boolean> {
    if (entries.length === 0) return true;
    const timeoutMs = checkTimeout(options.timeoutMs);
    const prepared: PreparedEntry[] = [];
    let pending: Promise<unknown>[] | undefined;
    for (const e of entries) {
      const ref = this.#ref(e.key);
      const ttlMs = this.ttlMs(ref.kind, e.ttl === undefined ? options.ttl : e.ttl);
      const value = this.#values.encode(ref, e.value, e.compress ?? options.compress);
      const entry = { ref, key: ref.key, value: value instanceof Promise ? new Uint8Array(0) : value, ttlMs };
      if (value instanceof Promise) (pending ??= []).push(value.then((v) => (entry.value = v)));
      prepared.push(entry);
    }
    if (pending) await Promise.all(pending);
    return this.#tiers.write(prepared, () => this.#bulk.setMany(prepared, timeoutMs));
  }

  /** Writes only when the key does not exist (a lock, a first writer wins); false when it existed or the backend failed. */
  async setIfAbsent(key: KeyInput, value: unknown, options: SetOptions = {}): Promise<boolean> {
    const ref = this.#ref(key);
    const ttlMs = this.ttlMs(ref.kind, options.ttl);
    const payload = await this.#values.encode(ref, value);
    return this.#tiers.write(
      ref.key,
      () => this.#policy.run('setIfAbsent', ref.kind, ref.key, false, (s) => s.set(ref.key, payload, { ttlMs, ifAbsent: true })),
      (stored) => stored,
    );
  }

  /** Deletes a key only if it still holds `value` (releasing a lock you own). */
  async deleteIfEquals(key: KeyInput, value: unknown): Promise<boolean> {
    const ref = this.#ref(key);
    const payload = await this.#values.encode(ref, value);
    return this.#tiers.write(ref.key, () => this.#policy.run('deleteIfEquals', ref.kind, ref.key, false, (s) => s.deleteIfEquals(ref.key, payload)));
  }

  /** Sets a key's time to live (seconds); false when the key does not exist or the backend failed. */
  async expire(key: KeyInput, ttl: number): Promise<boolean> {
    const ref = this.#ref(key);
    const ttlMs = this.ttlMs(ref.kind, ttl);
    // L1 holds an entry no longer than its TTL, which this changes: a write for L1.
    return this.#tiers.write(ref.key, () => this.#policy.run('expire', ref.kind, ref.key, false, (s) => s.expire(ref.key, ttlMs!)));
  }

  /** Adds 1 to a counter (that never expires) and returns the new value; null when the backend failed. */
  async incr(key: KeyInput): Promise<number | null> {
    const ref = this.#ref(key);
    return this.#tiers.write(ref.key, () => this.#policy.run<number | null>('incr', ref.kind, ref.key, null, (s) => s.incr(ref.key)));
  }

  /** Deletes a key; true when it existed. */
  async delete(key: KeyInput): Promise<boolean> {
    const ref = this.#ref(key);
    return this.#tiers.write(ref.key, () => this.#policy.run('delete', ref.kind, ref.key, false, async (s) => (await s.delete([ref.key])) > 0));
  }

  /**
   * Deletes keys in one round trip; says how many existed, or (`complete: false`) that the
   * backend failed.
   */
  async deleteMany(keys: readonly KeyInput[]): Promise<BulkResult> {
    const refs = keys.map((k) => this.#ref(k));
    if (refs.length === 0) return { count: 0, complete: true };
    const outcome = await this.#tiers.write(refs, () => this.#policy.attempt('deleteMany', operationKind(refs), undefined, (s) => s.delete(refs.map((r) => r.key))));
    return outcome.ok ? { count: outcome.value, complete: true } : { count: 0, complete: false, error: outcome.error };
  }

  // ---------------------------------------------------------------- prefixes

  /**
   * Deletes every key that starts with `prefix` (and passes `options.match`, when given), a page
   * of SCAN and an UNLINK at a time, never KEYS; a string is a literal start of generic keys, so
   * `*` matches only keys starting with `*`. Says how many were deleted and whether it got
   * through the whole keyspace: after a backend failure, `complete` is false and `count` is what
   * was deleted before it.
   */
  async deleteByPrefix(prefix: string | KeyPrefix, options: PrefixOptions = {}): Promise<BulkResult> {
    const result = await this.#walk('deleteByPrefix', prefix, options.match, async (s, keys) => {
      if (keys.length === 0) return 0;
      return this.#tiers.write(keys.map((key) => ({ key })), () => s.delete(keys));
    });
    return result;
  }

  /** Counts the keys that start with `prefix` (and pass `options.match`) without deleting them: a dry run of deleteByPrefix. */
  async countByPrefix(prefix: string | KeyPrefix, options: PrefixOptions = {}): Promise<BulkResult> {
    return this.#walk('countByPrefix', prefix, options.match, async (_s, keys) => keys.length);
  }

  async #walk(
    operation: string,
    prefix: string | KeyPrefix,
    match: ((key: string) => boolean) | undefined,
    step: (store: CacheStore, keys: string[]) => Promise<number>,
  ): Promise<BulkResult> {
    const p = this.#prefix(prefix);
    let count = 0;
    const outcome = await this.#policy.attempt(operation, p.kind, p.prefix, async (s) => {
      for await (const page of s.scan(p.prefix, SCAN_BATCH)) count += await step(s, match ? page.filter(match) : page);
    });
    return outcome.ok ? { count, complete: true } : { count, complete: false, error: outcome.error };
  }

  /**
   * Full keys that start with `prefix`, in batches. A backend failure ends the iteration early
   * and is reported as an error event (or thrown in strict mode); use {@link Cache.countByPrefix}
   * or {@link Cache.deleteByPrefix} to learn whether a walk was complete. The walk is one
   * operation like any other: counted, in `operation` events, behind the circuit breaker, and a
   * connection failure degrades the cache. Each SCAN page has the scan deadline (`scanTimeoutMs`).
   */
  async *scan(prefix: string | KeyPrefix, batchSize = SCAN_BATCH): AsyncIterable<string[]> {
    const p = this.#prefix(prefix);
    yield* this.#policy.stream('scan', p.kind, p.prefix, (s) => s.scan(p.prefix, batchSize));
  }

  #prefix(prefix: string | KeyPrefix): KeyPrefix {
    if (typeof prefix !== 'string') return prefix;
    // Encoding is character by character, so the encoded prefix is a prefix of every encoded key.
    return { kind: 'kv', prefix: prefix === '' ? this.keys.prefixOf('kv') : this.keys.key('kv', prefix).key };
  }

  // ---------------------------------------------------------------- for packages built on a cache

  /**
   * The time to live in ms that a write of `kind` gets: `ttl` seconds when given (fractions
   * allowed, at least 1 ms), the kind's configured TTL when undefined, no expiry (undefined) for
   * null. Throws E_INVALID_VALUE for anything else. cache-ml and cache-frames use it so that
   * their writes follow the same TTL settings as the cache's own.
   */
  ttlMs(kind: string, ttl: number | null | undefined): number | undefined {
    if (ttl === null) return undefined;
    if (ttl === undefined) return this.config.ttl[KIND_TTL[kind] ?? 'default'] * 1000;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl * 1000 < 1) {
      throw new FinRiskCacheError('E_INVALID_VALUE', `ttl must be a positive number of seconds (or null for no expiry), got ${String(ttl)}`);
    }
    return Math.round(ttl * 1000);
  }

  /**
   * Reports an error that a package built on this cache found (a schema failure on read, a
   * failed background refresh, a missing chunk): it counts in the kind's errors and reaches
   * every `error` listener and the logger, like the cache's own.
   */
  reportError(event: CacheErrorEvent): void {
    if (event.kind) this.#stats.of(event.kind).errors++;
    this.#report(event);
  }

  #report(event: CacheErrorEvent): void {
    this.#events.emit('error', event);
    this.#logger.error?.(`finrisk-cache: ${event.operation} ${event.key ?? event.kind ?? ''} failed: ${event.error.message}`);
  }

  /**
   * The value L1 holds for `key` now, without a round trip, a promise or an array; undefined
   * when L1 does not hold it (or is off, or not serving): then read it with {@link Cache.get}.
   * A hit counts as a read of the key's kind, like `get`'s. For the hot paths of packages built
   * on the cache (cache-ml answers a prediction whose token and value are both in L1 this way).
   * A stored `undefined` reads as not held.
   */
  peekLocal<T = unknown>(key: CacheKey): T | undefined {
    return this.#tiers.peek<T>(key);
  }

  /**
   * Resolves once every change that Redis reported to this process before the call has reached
   * L1: after another process says it wrote (over any channel), a read after `await
   * cache.syncLocal()` cannot be served an older value from L1. One PING per tracked node; true
   * when L1 is serving and every node answered, false when L1 is off or not serving (reads then
   * go to Redis anyway).
   */
  syncLocal(): Promise<boolean> {
    return this.#tiers.sync();
  }

  /**
   * Hears every change to the keys under `prefix` from Redis, whether L1 is on or not: one RESP3
   * connection per master in CLIENT TRACKING BCAST mode on that prefix (the mechanism of L1), for
   * the few keys a package built on the cache would otherwise read at every call (cache-ml holds
   * its generation tokens this way). See {@link KeyWatch} for how to hold a value. Keep the prefix
   * to a handful of keys: every write under it is pushed to every watching process. On the memory
   * and embedded stores, and where Redis refuses tracking, the watch is never up (a refusal or a
   * lost connection is said through the logger's `warn`, once per outage). Closed by {@link Cache.close}.
   * @param onChange called with each changed key (null: any key may have changed, or tracking was lost or regained)
   */
  watchPrefix(prefix: KeyPrefix, onChange?: (key: string | null) => void): KeyWatch {
    // A warning, not an error event: the caller reads the keys instead, and a least-privilege ACL
    // without CLIENT TRACKING (SECURITY.md's `app` role) is a configuration this must work in.
    const warn = (error: FinRiskCacheError) => this.#logger.warn(`finrisk-cache: ${error.message}`);
    const watch = new PrefixWatch(prefix, Math.max(this.config.commandTimeoutMs, 1000), warn, onChange);
    if (this.#watchesClosed) watch.close();
    else {
      this.#watches.add(watch);
      const store = this.#backend.store;
      if (store) watch.start(store);
    }
    return {
      get isUp() {
        return watch.isUp;
      },
      get epoch() {
        return watch.epoch;
      },
      sync: () => watch.sync(),
      close: () => {
        this.#watches.delete(watch);
        watch.close();
      },
    };
  }

  /**
   * What packages built on this cache may keep in L1 beside an entry, dropped with it (cache-frames
   * keeps a decoded table beside its manifest); undefined when L1 is off.
   */
  get localAttachments(): LocalAttachments | undefined {
    return this.#tiers.attachments;
  }

  /** Builds the full key for a key input; generic string keys live under the `kv` kind. */
  #ref(key: KeyInput): CacheKey {
    return typeof key === 'string' ? this.keys.key('kv', key) : key;
  }

  // ---------------------------------------------------------------- events, backend and health

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Unsubscribes a listener. */
  off<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): void {
    this.#events.off(event, listener);
  }

  /** State of the circuit breaker in front of Redis: `open` while calls are kept away from a failing server. */
  get circuitState(): 'closed' | 'open' | 'half-open' {
    return this.#policy.breaker.state;
  }

  /** The store in use, once resolved (the first operation resolves it). */
  get store(): CacheStore | undefined {
    return this.#backend.store;
  }

  /**
   * How many servers the keys are spread over: a Redis Cluster's masters serving slots (known
   * once connected), otherwise 1. Bulk transfers size their window by it, so that every master
   * has work in flight.
   */
  get masterCount(): number {
    const masters = capabilitiesOf(this.#backend.store).masterCount();
    return masters > 0 ? masters : 1;
  }

  /** True when `auto` fell back to the local store because Redis was not reachable. */
  get isFallback(): boolean {
    return this.#health.isFallback;
  }

  /** True while the cache is not healthy (backend failing, or running on a fallback store). */
  get isDegraded(): boolean {
    return this.#health.isDegraded;
  }

  /** Current health, without a round trip: `unhealthy` only when no store could be opened. */
  get status(): CacheStatus {
    return this.#health.status;
  }

  /** Resolves the backend (connecting if needed) and returns the store. */
  connect(): Promise<CacheStore> {
    return this.#backend.connect();
  }

  /** The node-redis client when the backend is Redis, for advanced use; null otherwise. */
  async getRedisClient(): Promise<RedisClient | null> {
    const store = await this.connect();
    return capabilitiesOf(store).connection?.client ?? null;
  }

  /** Whether the configured backend answers, where it is (never the password) and how fast. */
  async checkConnection(): Promise<ConnectionCheck> {
    const store = await this.connect();
    const backend = store.backend;
    try {
      const latencyMs = await store.ping();
      return { ok: true, backend, address: store.location, latencyMs };
    } catch (error) {
      // "The client is offline" says less than the connection error that made it so.
      const err = capabilitiesOf(store).connection?.lastError ?? toCacheError(error, 'E_INTERNAL', 'ping failed');
      return { ok: false, backend, address: store.location, error: err.message, code: err.code };
    }
  }

  /** This process's own counters per kind (no round trip); reads of bookkeeping keys are not counted. */
  processStats(): CacheStats['process'] {
    const stats = this.#stats.snapshot();
    const l1 = this.#tiers.l1Stats;
    if (l1) stats.l1 = l1;
    return stats;
  }

  /**
   * Publishes this process's counters to Redis now, for the fleet view (the cache does it every
   * `CACHE_STATS_INTERVAL` seconds and when it closes, unless `CACHE_STATS_PUBLISH=off`). True when
   * written; false on another store than Redis, with the circuit open, or when Redis failed.
   */
  publishStats(): Promise<boolean> {
    return this.#publisher.publish();
  }

  /**
   * The fleet's counters: every service whose processes published within their last three
   * intervals, added up per kind (hit rate, L1 figures), read from Redis (an index, never a scan
   * of the keyspace). No services on another store than Redis (there is no fleet then); null
   * when Redis failed (an `error` event).
   */
  async fleetStats(): Promise<FleetStats | null> {
    const fleet = capabilitiesOf(await this.connect()).fleet;
    if (!fleet) return { services: [], instances: [], rejected: 0, truncated: false };
    const outcome = await this.#policy.attempt('fleetStats', 'stats', undefined, () => readFleetStats(fleet, this.config));
    return outcome.ok ? outcome.value : null;
  }

  /** Server and process statistics, with a health status; never throws for backend failures. */
  async stats(): Promise<CacheStats> {
    return collectStats(await this.connect(), this.#health, this.processStats());
  }

  /** Closes the connection or file, within the store's close deadline. The cache cannot be used afterwards. Safe to call twice. */
  async close(): Promise<void> {
    await this.#publisher.close();
    this.#tiers.close();
    this.#watchesClosed = true;
    for (const watch of this.#watches) watch.close();
    this.#watches.clear();
    await this.#backend.close();
  }
}

/** Creates an independent cache; it connects on first use. */
export function createCache(options: CreateCacheOptions = {}): Cache {
  return new Cache(options);
}
