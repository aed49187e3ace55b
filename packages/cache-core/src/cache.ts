import { CacheFields, type FieldEntry, type FieldsRead, type GetFieldsOptions, type SetFieldsOptions } from './cache-fields.js';
import { Backend } from './backend.js';
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
import { newInstanceId, publishStats, readFleetStats, type FleetStats } from './fleet-stats.js';
import { Health } from './health.js';
import { KeySchema, type CacheKey } from './keys.js';
import { KindStatsRegistry, operationKind } from './kind-stats.js';
import { InvalidationTracker } from './l1/invalidation-tracker.js';
import { L1_MISS, LocalTier } from './l1/local-tier.js';
import { RemoteTier } from './remote-tier.js';
import type { CacheStats, CacheStatus } from './stats.js';
import { collectStats } from './stats-report.js';
import { MAX_TIMEOUT_MS } from './stores/deadline.js';
import { RedisStore, type RedisClient } from './stores/redis-store.js';
import type { CacheStore } from './stores/store.js';
import { TypedEmitter } from './typed-emitter.js';
import { ValuePipeline, type Hold } from './value-pipeline.js';

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

/**
 * Keys per store call of a large getMany. Measured on 10,000 keys: one 10,000-key MGET 5.8 ms,
 * ten 1,000-key MGETs written at once 3.8 ms (500-2,000 about the same); decoding each chunk as
 * it arrives overlaps with Redis answering the next.
 */
const GET_MANY_CHUNK = 1000;

/**
 * Store calls of one getMany or setMany in flight at once. Each call's deadline starts when it is
 * written, so calls written behind many others would wait out their deadline in the queue (a
 * 1,000,000-key batch as 1,000 MGETs at once); a bounded window keeps every call's wait to a few
 * calls' worth, and still overlaps decoding with Redis answering.
 */
const BULK_WINDOW = 8;

/** Entries per store call of a large setMany: a pipeline of 1,000 SETs. */
const SET_MANY_CHUNK = 1000;

/** How one getMany reads: its deadline per store call, and whether a failure throws. */
interface BulkCall {
  timeoutMs: number | undefined;
  throwOnFailure: boolean;
}

/** A caller's per-call deadline: undefined, or a positive number of ms a Node timer can hold. */
function checkTimeout(timeoutMs: number | undefined): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new FinRiskCacheError(
      'E_INVALID_CONFIG',
      `timeoutMs must be a positive number of milliseconds, at most ${MAX_TIMEOUT_MS} (what a Node timer holds; longer runs out after 1 ms), got ${String(timeoutMs)}`,
    );
  }
  return timeoutMs;
}

/**
 * Runs `task(0..count-1)` with at most `window` running at once, in order of start. Stops starting
 * new tasks once `stop()` says so; resolves, once every started task settled, to how many started.
 */
async function inWindow(count: number, window: number, task: (index: number) => Promise<void>, stop: () => boolean = () => false): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < count && !stop()) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  return next;
}

/** Keys per SCAN page and per UNLINK of a prefix delete. */
const SCAN_BATCH = 1000;

const KIND_TTL: Record<string, keyof TtlConfig> = {
  prediction: 'prediction',
  feature: 'feature',
  model: 'model',
  artifact: 'model',
  dataframe: 'dataframe',
};

/**
 * How often each L1 tracking connection proves it is alive (a PING under the command deadline):
 * a connection that went silent (a frozen server, a dead path) stops L1 within about this plus
 * the deadline, even though no error reached the socket.
 */
const L1_HEARTBEAT_MS = 1000;

const defaultLogger: CacheLogger = { warn: (message) => process.stderr.write(`${message}\n`) };

/**
 * A cache on one store. Backend failures never reach the caller (unless `strict`): reads are
 * misses, writes answer false, and listeners hear about it. Invalid input always throws.
 *
 * This class is the API front; each job behind it has a file of its own, in the order a value
 * travels: the remote tier (remote-tier.ts: breaker, failures, operation stats and events) in
 * front of the store that {@link Backend} resolved (backend.ts: choice and fallback), and the
 * value pipeline (value-pipeline.ts: encode, encrypt, decode, hits and misses). Health
 * (health.ts) and per-kind counters (kind-stats.ts) are shared by them.
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
  readonly #remote: RemoteTier;
  readonly #values: ValuePipeline;
  readonly #fields: CacheFields;
  /** The in-process tier, when CACHE_L1_MAX_MB is set; it serves only while Redis tracks for it. */
  readonly #local: LocalTier | undefined;
  #tracker: InvalidationTracker | undefined;
  readonly #decodeHeld = (bytes: Uint8Array) => this.#values.decodeHeld(bytes);
  /** This process's name in fleet statistics, and when its counters started. */
  readonly #instance = newInstanceId();
  readonly #startedAt = Date.now();
  #publisher: NodeJS.Timeout | undefined;

  constructor(options: CreateCacheOptions = {}) {
    this.config = resolveConfig(options);
    this.keys = new KeySchema(this.config.keyPrefix);
    this.#logger = options.logger ?? defaultLogger;
    const report = (event: CacheErrorEvent) => this.#report(event);
    this.#health = new Health(this.#events, () => this.#backend.store?.backend ?? this.config.backend);
    this.#local = this.config.l1.maxBytes > 0 ? new LocalTier(this.config.l1, this.config.keyPrefix, this.#stats, this.config.keyLayout === 'finrisk-python') : undefined;
    this.#backend = new Backend(this.config, this.#health, this.#logger, options.store, (store) => this.#storeResolved(store));
    this.#remote = new RemoteTier(this.config, this.#backend, this.#health, this.#stats, this.#events, report);
    this.#values = new ValuePipeline(this.config, this.#stats, report);
    this.#fields = new CacheFields({ remote: this.#remote, values: this.#values, stats: this.#stats, local: this.#local, ref: (k) => this.#ref(k), ttlMs: (kind, ttl) => this.ttlMs(kind, ttl) });
  }

  /** The store is known: fleet statistics start, and L1 starts hearing Redis's invalidations (or says why it cannot). */
  #storeResolved(store: CacheStore): void {
    if (store instanceof RedisStore && this.config.statsPublish && !this.#publisher) {
      this.#publisher = setInterval(() => void this.publishStats(), this.config.statsIntervalSeconds * 1000);
      this.#publisher.unref();
    }
    const local = this.#local;
    if (!local || this.#tracker) return;
    if (!(store instanceof RedisStore)) {
      this.#logger.warn(
        `finrisk-cache: CACHE_L1_MAX_MB is set, but L1 is off: only Redis can keep it coherent across processes, and the store is the ${store.backend} store at ${store.location}.`,
      );
      return;
    }
    const tracker = (this.#tracker = new InvalidationTracker({
      prefixes: local.prefixes,
      nodes: () => store.trackingNodes(),
      listener: {
        invalidate: (key) => local.invalidate(key),
        invalidateAll: () => local.invalidateAll(),
        up: () => local.resume(),
        down: () => local.suspend(),
      },
      deadlineMs: Math.max(this.config.commandTimeoutMs, 1000),
      heartbeatMs: L1_HEARTBEAT_MS,
      onError: (error) => this.#report({ error, operation: 'l1' }),
    }));
    store.onTopologyChange(() => tracker.refresh());
    tracker.start();
  }

  // ---------------------------------------------------------------- reads

  /** Reads a value; null when missing, expired, undecodable, or the backend failed. */
  async get<T = unknown>(key: KeyInput): Promise<T | null> {
    const ref = this.#ref(key);
    const local = this.#local;
    if (local?.covers(ref)) {
      // An L1 hit answers without a round trip, a promise of its own or an array: the hot path.
      const held = local.read(ref, this.#decodeHeld);
      if (held !== L1_MISS) {
        this.#stats.read(ref, true);
        return held as T;
      }
      return (await this.#fetchLocal<T>([ref], 'get'))[0]!;
    }
    const payload = await this.#remote.run('get', ref.kind, ref.key, null, (s) => s.get(ref.key));
    return this.#values.decode<T>(ref, payload, 'get');
  }

  /**
   * Reads keys that L1 covers but does not hold, from Redis with their TTLs (one round trip), and
   * keeps each in L1 unless an invalidation of its key arrived while it was in flight.
   */
  async #fetchLocal<T>(wanted: readonly CacheKey[], operation: string, throwOnFailure = false): Promise<(T | null)[]> {
    const local = this.#local!;
    const out = new Array<T | null>(wanted.length);
    if (!local.isServing) {
      // Tracking is not established: read as if there were no L1, and keep nothing.
      const payloads = await this.#read(operation, operationKind(wanted), throwOnFailure, (s) => s.getMany(wanted.map((r) => r.key)));
      await Promise.all(wanted.map(async (ref, j) => (out[j] = await this.#values.decode<T>(ref, payloads?.[j] ?? null, operation))));
      return out;
    }
    const fills = wanted.map((ref) => local.startFill(ref.key));
    const sentAt = performance.now();
    let got: { values: (Uint8Array | null)[]; pttls: number[] } | null;
    try {
      got = await this.#read(operation, operationKind(wanted), throwOnFailure, (s) => (s as RedisStore).getManyWithTtl(wanted.map((r) => r.key)));
    } catch (error) {
      // Strict mode throws the backend's failure: the fills it started end here, holding nothing.
      for (const fill of fills) local.abandonFill(fill);
      throw error;
    }
    // A TTL read now counts from when the request left: the entry expires no later than the key.
    const elapsed = performance.now() - sentAt;
    await Promise.all(
      wanted.map(async (ref, j) => {
        const decoded = await this.#values.decodeToHold<T>(ref, got?.values[j] ?? null, operation, local.maxValueBytes);
        out[j] = decoded.value;
        const pttl = got?.pttls[j] ?? -2;
        if (decoded.hold === undefined || pttl === -2) local.abandonFill(fills[j]!);
        else local.finishFill(fills[j]!, ref.kind, decoded.hold, pttl === -1 ? undefined : Math.floor(pttl - elapsed));
      }),
    );
    return out;
  }

  /**
   * Reads a value and restarts its time to live (sliding expiry), in one round trip.
   * @param ttl seconds. @default the kind's TTL
   */
  async getAndTouch<T = unknown>(key: KeyInput, options: SetOptions = {}): Promise<T | null> {
    const ref = this.#ref(key);
    const ttlMs = this.ttlMs(ref.kind, options.ttl);
    const payload = await this.#remote.run('getAndTouch', ref.kind, ref.key, null, (s) =>
      ttlMs === undefined ? s.get(ref.key) : s.getAndTouch(ref.key, ttlMs),
    );
    // It changed the key's TTL, which bounds how long L1 may hold it: it is read from Redis next time.
    this.#local?.invalidate(ref.key);
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
    if (this.#local !== undefined) return this.#getManyLocal<T>(refs, call);
    const out = new Array<T | null>(refs.length);
    if (refs.length <= GET_MANY_CHUNK) {
      if (refs.length > 0) await this.#getChunk(refs, 0, out, call);
      return out;
    }
    // A large batch goes as several MGETs, a few in flight at once, and each chunk is decoded as
    // soon as it arrives, while Redis still answers the next ones.
    await inWindow(Math.ceil(refs.length / GET_MANY_CHUNK), BULK_WINDOW, (c) => {
      const start = c * GET_MANY_CHUNK;
      return this.#getChunk(refs.slice(start, start + GET_MANY_CHUNK), start, out, call);
    });
    return out;
  }

  /**
   * getMany when L1 covers some keys: hits first (a batch that L1 answers whole makes no round
   * trip), then the misses through L1 and the keys it does not cover as usual, 1,000 per call.
   */
  async #getManyLocal<T>(refs: CacheKey[], call: BulkCall): Promise<(T | null)[]> {
    const local = this.#local!;
    const out = new Array<T | null>(refs.length);
    let missed: number[] | undefined;
    let others: number[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      if (!local.covers(ref)) {
        (others ??= []).push(i);
        continue;
      }
      const held = local.read(ref, this.#decodeHeld);
      if (held === L1_MISS) (missed ??= []).push(i);
      else {
        this.#stats.read(ref, true);
        out[i] = held as T;
      }
    }
    if (missed === undefined && others === undefined) return out;
    // The same window of 1,000-key calls as without L1.
    const parts: (() => Promise<void>)[] = [];
    for (let start = 0; missed && start < missed.length; start += GET_MANY_CHUNK) {
      const indexes = missed.slice(start, start + GET_MANY_CHUNK);
      parts.push(() => this.#fetchLocal<T>(indexes.map((i) => refs[i]!), 'getMany', call.throwOnFailure).then((values) => indexes.forEach((i, j) => (out[i] = values[j]!))));
    }
    for (let start = 0; others && start < others.length; start += GET_MANY_CHUNK) {
      const indexes = others.slice(start, start + GET_MANY_CHUNK);
      const chunk = new Array<T | null>(indexes.length);
      parts.push(() => this.#getChunk(indexes.map((i) => refs[i]!), 0, chunk, call).then(() => indexes.forEach((i, j) => (out[i] = chunk[j]!))));
    }
    await inWindow(parts.length, BULK_WINDOW, (i) => parts[i]!());
    return out;
  }

  /** Reads `refs` with one store call and decodes them into `out` from index `offset`. */
  async #getChunk<T>(refs: CacheKey[], offset: number, out: (T | null)[], call: BulkCall): Promise<void> {
    const keys = refs.map((r) => r.key);
    const { timeoutMs } = call;
    const payloads = await this.#read('getMany', operationKind(refs), call.throwOnFailure, (s) => (timeoutMs === undefined ? s.getMany(keys) : s.getMany(keys, { timeoutMs })));
    let pending: Promise<unknown>[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const value = this.#values.decode<T>(refs[i]!, payloads?.[i] ?? null, 'getMany');
      if (value instanceof Promise) (pending ??= []).push(value.then((v) => (out[offset + i] = v)));
      else out[offset + i] = value;
    }
    if (pending) await Promise.all(pending);
  }

  /**
   * A store read: null when the backend failed (reported as an error event), or with
   * `throwOnFailure` that failure thrown, reported all the same.
   */
  async #read<T>(operation: string, kind: string, throwOnFailure: boolean, fn: (store: CacheStore) => Promise<T>): Promise<T | null> {
    if (!throwOnFailure) return this.#remote.run<T | null>(operation, kind, undefined, null, fn);
    const outcome = await this.#remote.attempt(operation, kind, undefined, fn);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** True when the key exists; false when it does not or the backend failed. */
  async exists(key: KeyInput): Promise<boolean> {
    const ref = this.#ref(key);
    return this.#remote.run('exists', ref.kind, ref.key, false, (s) => s.exists(ref.key));
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
    return this.#remote.run<number | null>('ttl', ref.kind, ref.key, null, (s) => s.ttl(ref.key));
  }

  /** Reads a counter written by {@link Cache.incr}; 0 when it does not exist, null when the backend failed. */
  async getCounter(key: KeyInput): Promise<number | null> {
    const ref = this.#ref(key);
    return this.#remote.run<number | null>('getCounter', ref.kind, ref.key, null, async (s) => {
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
    this.#local?.invalidate(ref.key);
    // A plain SET always answers true from every store; false comes from the fallback.
    const ok = await this.#remote.run('set', ref.kind, ref.key, false, (s) => s.set(ref.key, bytes, { ttlMs }));
    // Again once written: a read that filled L1 meanwhile may have read the old value.
    this.#local?.invalidate(ref.key);
    const stats = this.#stats.of(ref.kind);
    if (ok) stats.writes++;
    else stats.writeFailures++;
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
    const prepared: { ref: CacheKey; key: string; value: Uint8Array; ttlMs: number | undefined }[] = [];
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
    this.#invalidate(prepared);
    let ok = true;
    const started = await inWindow(Math.ceil(prepared.length / SET_MANY_CHUNK), BULK_WINDOW, async (c) => {
      const part = prepared.length <= SET_MANY_CHUNK ? prepared : prepared.slice(c * SET_MANY_CHUNK, (c + 1) * SET_MANY_CHUNK);
      const stored = await this.#remote.run('setMany', operationKind(part.map((p) => p.ref)), undefined, false, async (s) => {
        await (timeoutMs === undefined ? s.setMany(part) : s.setMany(part, { timeoutMs }));
        return true;
      });
      if (!stored) ok = false;
      for (const p of part) {
        if (stored) this.#stats.of(p.ref.kind).writes++;
        else this.#stats.of(p.ref.kind).writeFailures++;
      }
    }, () => !ok);
    // The pipelines never sent after a failure are failed writes too.
    for (let i = started * SET_MANY_CHUNK; i < prepared.length; i++) this.#stats.of(prepared[i]!.ref.kind).writeFailures++;
    this.#invalidate(prepared);
    return ok;
  }

  /** Writes only when the key does not exist (a lock, a first writer wins); false when it existed or the backend failed. */
  async setIfAbsent(key: KeyInput, value: unknown, options: SetOptions = {}): Promise<boolean> {
    const ref = this.#ref(key);
    const ttlMs = this.ttlMs(ref.kind, options.ttl);
    const payload = await this.#values.encode(ref, value);
    const stored = await this.#remote.run('setIfAbsent', ref.kind, ref.key, false, (s) => s.set(ref.key, payload, { ttlMs, ifAbsent: true }));
    if (stored) this.#local?.invalidate(ref.key);
    return stored;
  }

  /** Deletes a key only if it still holds `value` (releasing a lock you own). */
  async deleteIfEquals(key: KeyInput, value: unknown): Promise<boolean> {
    const ref = this.#ref(key);
    const payload = await this.#values.encode(ref, value);
    const deleted = await this.#remote.run('deleteIfEquals', ref.kind, ref.key, false, (s) => s.deleteIfEquals(ref.key, payload));
    this.#local?.invalidate(ref.key);
    return deleted;
  }

  /** Sets a key's time to live (seconds); false when the key does not exist or the backend failed. */
  async expire(key: KeyInput, ttl: number): Promise<boolean> {
    const ref = this.#ref(key);
    const ttlMs = this.ttlMs(ref.kind, ttl);
    const set = await this.#remote.run('expire', ref.kind, ref.key, false, (s) => s.expire(ref.key, ttlMs!));
    // L1 holds an entry no longer than its TTL, which just changed.
    this.#local?.invalidate(ref.key);
    return set;
  }

  /** Adds 1 to a counter (that never expires) and returns the new value; null when the backend failed. */
  async incr(key: KeyInput): Promise<number | null> {
    const ref = this.#ref(key);
    const value = await this.#remote.run<number | null>('incr', ref.kind, ref.key, null, (s) => s.incr(ref.key));
    this.#local?.invalidate(ref.key);
    return value;
  }

  /** Deletes a key; true when it existed. */
  async delete(key: KeyInput): Promise<boolean> {
    const ref = this.#ref(key);
    this.#local?.invalidate(ref.key);
    const existed = await this.#remote.run('delete', ref.kind, ref.key, false, async (s) => (await s.delete([ref.key])) > 0);
    this.#local?.invalidate(ref.key);
    return existed;
  }

  /**
   * Deletes keys in one round trip; says how many existed, or (`complete: false`) that the
   * backend failed.
   */
  async deleteMany(keys: readonly KeyInput[]): Promise<BulkResult> {
    const refs = keys.map((k) => this.#ref(k));
    if (refs.length === 0) return { count: 0, complete: true };
    this.#invalidate(refs);
    const outcome = await this.#remote.attempt('deleteMany', operationKind(refs), undefined, (s) => s.delete(refs.map((r) => r.key)));
    this.#invalidate(refs);
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
      for (const key of keys) this.#local?.invalidate(key);
      const deleted = await s.delete(keys);
      for (const key of keys) this.#local?.invalidate(key);
      return deleted;
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
    const outcome = await this.#remote.attempt(operation, p.kind, p.prefix, async (s) => {
      for await (const page of s.scan(p.prefix, SCAN_BATCH)) count += await step(s, match ? page.filter(match) : page);
    });
    return outcome.ok ? { count, complete: true } : { count, complete: false, error: outcome.error };
  }

  /**
   * Full keys that start with `prefix`, in batches. A backend failure ends the iteration early
   * and is reported as an error event (or thrown in strict mode); use {@link Cache.countByPrefix}
   * or {@link Cache.deleteByPrefix} to learn whether a walk was complete.
   */
  async *scan(prefix: string | KeyPrefix, batchSize = SCAN_BATCH): AsyncIterable<string[]> {
    const p = this.#prefix(prefix);
    const store = this.#backend.store ?? (await this.#backend.connect());
    try {
      for await (const keys of store.scan(p.prefix, batchSize)) yield keys;
    } catch (error) {
      const err = toCacheError(error, 'E_INTERNAL', 'scan failed');
      this.#stats.of(p.kind).errors++;
      this.#report({ error: err, operation: 'scan', kind: p.kind, key: p.prefix });
      if (this.config.strict) throw err;
    }
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

  /** Drops keys this process is about to change (or just changed) from L1. */
  #invalidate(refs: readonly { key: string }[]): void {
    const local = this.#local;
    if (local) for (const ref of refs) local.invalidate(ref.key);
  }

  /**
   * The value L1 holds for `key` now, without a round trip, a promise or an array; undefined
   * when L1 does not hold it (or is off, or not serving): then read it with {@link Cache.get}.
   * A hit counts as a read of the key's kind, like `get`'s. For the hot paths of packages built
   * on the cache (cache-ml answers a prediction whose token and value are both in L1 this way).
   * A stored `undefined` reads as not held.
   */
  peekLocal<T = unknown>(key: CacheKey): T | undefined {
    const local = this.#local;
    if (local === undefined || !local.covers(key)) return undefined;
    const held = local.read(key, this.#decodeHeld, false);
    if (held === L1_MISS) return undefined;
    this.#stats.read(key, true);
    return held as T;
  }

  /**
   * Resolves once every change that Redis reported to this process before the call has reached
   * L1: after another process says it wrote (over any channel), a read after `await
   * cache.syncLocal()` cannot be served an older value from L1. One PING per tracked node; true
   * when L1 is serving and every node answered, false when L1 is off or not serving (reads then
   * go to Redis anyway).
   */
  async syncLocal(): Promise<boolean> {
    return (await this.#tracker?.sync()) ?? false;
  }

  /**
   * What packages built on this cache may keep in L1 beside an entry, dropped with it (cache-frames
   * keeps a decoded table beside its manifest); undefined when L1 is off.
   */
  get localAttachments(): LocalAttachments | undefined {
    const local = this.#local;
    if (!local) return undefined;
    return {
      get: (key, tag) => local.attachment(key.key, tag),
      set: (key, tag, value, bytes) => local.attach(key.key, tag, value, bytes),
    };
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
    return this.#remote.breaker.state;
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
    const masters = (this.#backend.store as { masterCount?: number } | undefined)?.masterCount;
    return masters !== undefined && masters > 0 ? masters : 1;
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
    return store instanceof RedisStore ? store.client : null;
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
      const err = (store instanceof RedisStore ? store.lastError : undefined) ?? toCacheError(error, 'E_INTERNAL', 'ping failed');
      return { ok: false, backend, address: store.location, error: err.message, code: err.code };
    }
  }

  /** This process's own counters per kind (no round trip); reads of bookkeeping keys are not counted. */
  processStats(): CacheStats['process'] {
    const stats = this.#stats.snapshot();
    const local = this.#local;
    if (local) stats.l1 = { serving: local.isServing, bytes: local.bytes, maxBytes: this.config.l1.maxBytes };
    return stats;
  }

  /**
   * Publishes this process's counters to Redis now, for the fleet view (the cache does it every
   * `CACHE_STATS_INTERVAL` seconds and when it closes, unless `CACHE_STATS_PUBLISH=off`). True when
   * written; false on another store than Redis, with the circuit open, or when Redis failed.
   */
  async publishStats(): Promise<boolean> {
    const store = this.#backend.store;
    if (!(store instanceof RedisStore) || this.#remote.breaker.state === 'open') return false;
    try {
      await publishStats(store, this.config, this.#instance, this.#startedAt, this.processStats());
      return true;
    } catch {
      // The cache reports Redis's failures through its own calls; a missed publication is not one.
      return false;
    }
  }

  /**
   * The fleet's counters: every service whose processes published within their last three
   * intervals, added up per kind (hit rate, L1 figures), read from Redis (an index, never a scan
   * of the keyspace). No services on another store than Redis (there is no fleet then); null
   * when Redis failed (an `error` event).
   */
  async fleetStats(): Promise<FleetStats | null> {
    const store = await this.connect();
    if (!(store instanceof RedisStore)) return { services: [], instances: [], rejected: 0, truncated: false };
    const outcome = await this.#remote.attempt('fleetStats', 'stats', undefined, (s) => readFleetStats(s as RedisStore, this.config));
    return outcome.ok ? outcome.value : null;
  }

  /** Server and process statistics, with a health status; never throws for backend failures. */
  async stats(): Promise<CacheStats> {
    return collectStats(await this.connect(), this.#health, this.processStats());
  }

  /** Closes the connection or file, within the store's close deadline. The cache cannot be used afterwards. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#publisher) {
      clearInterval(this.#publisher);
      this.#publisher = undefined;
      // The last figures stay visible to the fleet view for three intervals (bounded by the command deadline).
      await this.publishStats();
    }
    this.#tracker?.close();
    await this.#backend.close();
  }
}

/** Creates an independent cache; it connects on first use. */
export function createCache(options: CreateCacheOptions = {}): Cache {
  return new Cache(options);
}
