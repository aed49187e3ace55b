import { CircuitBreaker } from './circuit-breaker.js';
import { decodeValueFast, encodeValueFast, isEncryptedEnvelope } from './codec.js';
import { describeRedisAddress, resolveConfig, type CacheConfig, type CacheOptions, type TtlConfig } from './config.js';
import { FinRiskCacheError, toCacheError, type CacheErrorCode } from './errors.js';
import { KeySchema, type CacheKey } from './keys.js';
import { parsePythonJson, pythonJsonDumps } from './python-json.js';
import { emptyKindStats, formatBytes, hitRate, type CacheStats, type CacheStatus, type KindStats } from './stats.js';
import { LocalStore } from './stores/local-store.js';
import { MemoryStore } from './stores/memory-store.js';
import { createRedisStore } from './stores/redis-cluster-store.js';
import { RedisStore, type RedisClient } from './stores/redis-store.js';
import type { CacheStore, StoreInfo } from './stores/store.js';

/** A key: a string under the generic `kv` kind, or a key built by {@link KeySchema}. */
export type KeyInput = string | CacheKey;

/** A set of keys sharing a literal start, built by {@link KeySchema.prefixOf}. */
export interface KeyPrefix {
  kind: string;
  prefix: string;
}

/** Options of a write. */
export interface SetOptions {
  /**
   * Time to live in seconds (fractions allowed, at least 1 ms); `null` keeps the entry until it
   * is deleted. @default the TTL of the key's kind (`CACHE_DEFAULT_TTL` for generic keys)
   */
  ttl?: number | null;
  /** false: store the value uncompressed whatever its size (it is compressed already). @default true */
  compress?: boolean;
}

/** One entry of {@link Cache.setMany}. */
export interface SetManyEntry<T = unknown> extends SetOptions {
  key: KeyInput;
  value: T;
}

/** Something to tell a service about, passed to `error` listeners. */
export interface CacheErrorEvent {
  error: FinRiskCacheError;
  /** The operation that failed, e.g. `get`. */
  operation: string;
  /** The kind of entry involved, when there is one. */
  kind?: string;
  /** The key involved, when there is one. */
  key?: string;
}

/** Events of a cache and their payloads. */
export interface CacheEvents {
  /** A backend failure or a payload that could not be decoded. */
  error: (event: CacheErrorEvent) => void;
  /** The cache stopped being healthy (Redis went away, commands time out, or a fallback store is in use). */
  degraded: (event: { error: FinRiskCacheError; backend: string }) => void;
  /** The cache is healthy again. */
  recovered: (event: { backend: string; downForMs: number }) => void;
  /** Every store operation, when it ends (for metrics adapters; costs nothing without listeners). */
  operation: (event: OperationEvent) => void;
}

/** One finished store operation. */
export interface OperationEvent {
  /** e.g. `get`, `setMany`. */
  operation: string;
  /** The kind of entry. */
  kind: string;
  /** Time in the store, in ms (decoding excluded). */
  durationMs: number;
  /** False when the backend failed. */
  ok: boolean;
}

/** Where a cache writes its few messages. @default warnings to stderr, nothing else */
export interface CacheLogger {
  warn(message: string): void;
  error?(message: string): void;
  debug?(message: string): void;
}

/** Options of {@link createCache}: the configuration plus runtime hooks. */
export interface CreateCacheOptions extends CacheOptions {
  /** Receives the fallback warning and, if it has `error`, every error event. */
  logger?: CacheLogger;
  /** An already built store to use instead of the configured backend (tests, custom stores). */
  store?: CacheStore;
}

/** Result of {@link Cache.checkConnection}. */
export interface ConnectionCheck {
  /** True when the configured backend answered. */
  ok: boolean;
  /** The backend that was checked. */
  backend: 'redis' | 'local' | 'memory';
  /** Masked address or file path. */
  address: string;
  /** Round trip in ms, when it answered. */
  latencyMs?: number;
  /** Why it did not answer. */
  error?: string;
  /** The error's code. */
  code?: CacheErrorCode;
}

/**
 * Keys per store call of a large getMany. Measured on 10,000 keys: one 10,000-key MGET 5.8 ms,
 * ten 1,000-key MGETs written at once 3.8 ms (500-2,000 about the same); decoding each chunk as
 * it arrives overlaps with Redis answering the next.
 */
const GET_MANY_CHUNK = 1000;

const CALLER_ERRORS = new Set<CacheErrorCode>(['E_INVALID_KEY', 'E_INVALID_VALUE', 'E_PAYLOAD_TOO_LARGE', 'E_INVALID_CONFIG', 'E_CLOSED', 'E_SCHEMA']);
const PAYLOAD_ERRORS = new Set<CacheErrorCode>(['E_PAYLOAD_CORRUPT', 'E_PAYLOAD_UNSUPPORTED']);
const CONNECTION_ERRORS = new Set<CacheErrorCode>(['E_REDIS_UNAVAILABLE', 'E_TIMEOUT']);

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
 */
export class Cache {
  /** The resolved configuration. */
  readonly config: CacheConfig;
  /** Builds every key under this cache's prefix. */
  readonly keys: KeySchema;
  readonly #logger: CacheLogger;
  readonly #injected: CacheStore | undefined;
  #store: CacheStore | undefined;
  #resolving: Promise<CacheStore> | undefined;
  #fallback = false;
  #closed = false;
  #degradedSince: number | undefined;
  #lastError: FinRiskCacheError | undefined;
  #kindStats = new Map<string, KindStats>();
  readonly #breaker: CircuitBreaker;
  #listeners: { [E in keyof CacheEvents]: Set<CacheEvents[E]> } = {
    error: new Set(),
    degraded: new Set(),
    recovered: new Set(),
    operation: new Set(),
  };

  constructor(options: CreateCacheOptions = {}) {
    this.config = resolveConfig(options);
    this.keys = new KeySchema(this.config.keyPrefix);
    this.#logger = options.logger ?? defaultLogger;
    this.#injected = options.store;
    this.#breaker = new CircuitBreaker({ threshold: this.config.breakerThreshold, cooldownMs: this.config.breakerCooldownMs });
  }

  /** State of the circuit breaker in front of Redis: `open` while calls are kept away from a failing server. */
  get circuitState(): 'closed' | 'open' | 'half-open' {
    return this.#breaker.state;
  }

  // ---------------------------------------------------------------- events

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): () => void {
    this.#listeners[event].add(listener);
    return () => this.off(event, listener);
  }

  /** Unsubscribes a listener. */
  off<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): void {
    this.#listeners[event].delete(listener);
  }

  #emit<E extends keyof CacheEvents>(event: E, payload: Parameters<CacheEvents[E]>[0]): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (p: typeof payload) => void)(payload);
      } catch {
        // A listener's bug must not break the caller's request.
      }
    }
  }

  #setDegraded(error: FinRiskCacheError): void {
    this.#lastError = error;
    if (this.#degradedSince !== undefined) return;
    this.#degradedSince = Date.now();
    this.#emit('degraded', { error, backend: this.#store?.backend ?? this.config.backend });
  }

  #setRecovered(): void {
    if (this.#degradedSince === undefined || this.#fallback) return;
    const downForMs = Date.now() - this.#degradedSince;
    this.#degradedSince = undefined;
    this.#lastError = undefined;
    this.#emit('recovered', { backend: this.#store?.backend ?? this.config.backend, downForMs });
  }

  // ---------------------------------------------------------------- backend

  /** The store in use, once resolved (the first operation resolves it). */
  get store(): CacheStore | undefined {
    return this.#store;
  }

  /** True when `auto` fell back to the local store because Redis was not reachable. */
  get isFallback(): boolean {
    return this.#fallback;
  }

  /** True while the cache is not healthy (backend failing, or running on a fallback store). */
  get isDegraded(): boolean {
    return this.status !== 'healthy';
  }

  /** Current health, without a round trip: `unhealthy` only when no store could be opened. */
  get status(): CacheStatus {
    if (this.#degradedSince !== undefined || this.#fallback) return 'degraded';
    return 'healthy';
  }

  /** Resolves the backend (connecting if needed) and returns the store. */
  async connect(): Promise<CacheStore> {
    if (this.#closed) throw new FinRiskCacheError('E_CLOSED', 'this cache was closed; create a new one');
    if (this.#store) return this.#store;
    this.#resolving ??= this.#resolve().finally(() => {
      this.#resolving = undefined;
    });
    return this.#resolving;
  }

  async #resolve(): Promise<CacheStore> {
    const config = this.config;
    if (this.#injected) {
      await this.#injected.connect();
      return (this.#store = this.#injected);
    }
    switch (config.backend) {
      case 'memory': {
        const store = new MemoryStore();
        await store.connect();
        return (this.#store = store);
      }
      case 'local': {
        const store = new LocalStore({ path: config.localPath });
        await store.connect();
        return (this.#store = store);
      }
      case 'redis': {
        const store = this.#watch(createRedisStore(config));
        this.#store = store;
        try {
          // Wait briefly so that the first call finds the connection up; after that, fail fast.
          await store.connect(Math.max(config.commandTimeoutMs, Math.min(config.connectTimeoutMs, 1000)));
        } catch (error) {
          this.#setDegraded(toCacheError(error, 'E_REDIS_UNAVAILABLE', 'connecting to Redis'));
        }
        return store;
      }
      case 'auto': {
        const redis = createRedisStore(config);
        try {
          await redis.connect(config.connectTimeoutMs);
          this.#store = this.#watch(redis);
          return redis;
        } catch (error) {
          await redis.close();
          const reason = toCacheError(error, 'E_REDIS_UNAVAILABLE', 'connecting to Redis');
          return this.#fallBack(reason);
        }
      }
    }
  }

  async #fallBack(reason: FinRiskCacheError): Promise<CacheStore> {
    const address = describeRedisAddress(this.config);
    let store: CacheStore = new LocalStore({ path: this.config.localPath });
    let where = `the local store at ${this.config.localPath}`;
    try {
      await store.connect();
    } catch (error) {
      store = new MemoryStore();
      await store.connect();
      where = `memory only (the local store failed: ${(error as Error).message})`;
    }
    this.#store = store;
    this.#fallback = true;
    this.#logger.warn(
      `finrisk-cache: Redis at ${address} is not reachable (${reason.message}); caching in ${where}. ` +
        'Set REDIS_URL or REDIS_HOST/REDIS_PORT to use Redis, or CACHE_BACKEND=local to silence this warning.',
    );
    this.#setDegraded(reason);
    return store;
  }

  #watch(store: RedisStore): RedisStore {
    store.onConnectionChange((event) => {
      if (event.type === 'down') this.#setDegraded(event.error);
      else this.#setRecovered();
    });
    return store;
  }

  /** The node-redis client when the backend is Redis, for advanced use; null otherwise. */
  async getRedisClient(): Promise<RedisClient | null> {
    const store = await this.connect();
    return store instanceof RedisStore ? store.client : null;
  }

  // ---------------------------------------------------------------- plumbing

  /** Builds the full key for a key input; generic string keys live under the `kv` kind. */
  resolveKey(key: KeyInput): CacheKey {
    return typeof key === 'string' ? this.keys.key('kv', key) : key;
  }

  /** TTL in ms for a write: the explicit one, or the kind's default; undefined for no expiry. */
  ttlMs(kind: string, ttl: number | null | undefined): number | undefined {
    if (ttl === null) return undefined;
    if (ttl === undefined) return this.config.ttl[KIND_TTL[kind] ?? 'default'] * 1000;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl * 1000 < 1) {
      throw new FinRiskCacheError('E_INVALID_VALUE', `ttl must be a positive number of seconds (or null for no expiry), got ${String(ttl)}`);
    }
    return Math.round(ttl * 1000);
  }

  #stats(kind: string): KindStats {
    let stats = this.#kindStats.get(kind);
    if (!stats) this.#kindStats.set(kind, (stats = emptyKindStats()));
    return stats;
  }

  /**
   * Runs one store operation. Invalid input throws; backend failures become `fallback`, an
   * `error` event and (for connection failures) the degraded state; strict mode rethrows them.
   */
  async #op<T>(operation: string, kind: string, key: string | undefined, fallback: T, fn: (store: CacheStore) => Promise<T>): Promise<T> {
    const stats = this.#stats(kind);
    const start = performance.now();
    let ok = false;
    let breaker: CircuitBreaker | undefined;
    let used: CacheStore | undefined;
    try {
      const store = (used = this.#store ?? (await this.connect()));
      if (store.backend === 'redis') {
        breaker = this.#breaker;
        if (!breaker.allow()) {
          // Refused without a round trip: the server failed too often just now.
          if (this.config.strict) {
            throw new FinRiskCacheError('E_REDIS_UNAVAILABLE', `Redis at ${store.location} keeps failing; calls are paused for up to ${this.config.breakerCooldownMs} ms (circuit open)`);
          }
          breaker = undefined;
          return fallback;
        }
      }
      const result = await fn(store);
      breaker?.success();
      ok = true;
      if (this.#degradedSince !== undefined && !this.#fallback && (!(store instanceof RedisStore) || store.isReady)) this.#setRecovered();
      return result;
    } catch (error) {
      let err = toCacheError(error, 'E_INTERNAL', `${operation} failed`);
      // "The client is offline" says less than the connection error that made it so (WRONGPASS, a bad certificate).
      if (err.code === 'E_REDIS_UNAVAILABLE' && used instanceof RedisStore && !used.isReady && used.lastError) err = used.lastError;
      if (CALLER_ERRORS.has(err.code)) throw err;
      stats.errors++;
      this.#report({ error: err, operation, kind, ...(key === undefined ? {} : { key }) });
      if (CONNECTION_ERRORS.has(err.code)) {
        breaker?.failure();
        this.#setDegraded(err);
      } else breaker?.success(); // the server answered, with an error of its own
      if (this.config.strict && !PAYLOAD_ERRORS.has(err.code)) throw err;
      return fallback;
    } finally {
      const durationMs = performance.now() - start;
      stats.operations++;
      stats.totalLatencyMs += durationMs;
      if (this.#listeners.operation.size > 0) this.#emit('operation', { operation, kind, durationMs, ok });
    }
  }

  /**
   * Reports an error that a package built on this cache found (a schema failure on read, a
   * failed background refresh, a missing chunk): it counts in the kind's errors and reaches
   * every `error` listener, like the cache's own.
   */
  reportError(event: CacheErrorEvent): void {
    if (event.kind) this.#stats(event.kind).errors++;
    this.#report(event);
  }

  #report(event: CacheErrorEvent): void {
    this.#emit('error', event);
    this.#logger.error?.(`finrisk-cache: ${event.operation} ${event.key ?? event.kind ?? ''} failed: ${event.error.message}`);
  }

  /** Encodes a value for `ref`; a promise only when a large value is deflated off the thread. */
  #encode(ref: CacheKey, value: unknown, compress?: boolean): Uint8Array | Promise<Uint8Array> {
    if (ref.format === 'json') {
      const bytes = Buffer.from(pythonJsonDumps(value), 'utf8');
      if (bytes.byteLength > this.config.maxValueBytes) {
        throw new FinRiskCacheError('E_PAYLOAD_TOO_LARGE', `value is ${bytes.byteLength} bytes; the limit is ${this.config.maxValueBytes}`);
      }
      return bytes;
    }
    const envelope = encodeValueFast(value, compress === false ? { ...this.config, compress } : this.config);
    return envelope instanceof Promise ? envelope.then((e) => this.#seal(ref, e)) : this.#seal(ref, envelope);
  }

  #seal(ref: CacheKey, envelope: Buffer): Uint8Array {
    const keyring = this.config.keyring;
    return keyring?.covers(ref.kind) ? keyring.encrypt(envelope, ref.key) : envelope;
  }

  /** Decrypts an encrypted envelope; refuses a plaintext one where encryption is required (a downgrade). */
  #unseal(ref: CacheKey, payload: Uint8Array): Uint8Array {
    const keyring = this.config.keyring;
    const encrypted = isEncryptedEnvelope(payload);
    if (encrypted) {
      if (!keyring) {
        throw new FinRiskCacheError('E_PAYLOAD_UNSUPPORTED', `stored value at ${ref.key} is encrypted and no CACHE_ENCRYPTION_KEYS are configured`);
      }
      return keyring.decrypt(payload, ref.key);
    }
    if (keyring?.covers(ref.kind)) {
      throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `stored value at ${ref.key} is not encrypted, but ${ref.kind} values must be`);
    }
    return payload;
  }

  /**
   * Decodes a stored payload; a payload that does not decode is a miss and an error event. A
   * promise only when a large compressed value is inflated off the thread: the hot path of get
   * and getMany allocates no promise per value.
   */
  #decode<T>(ref: CacheKey, payload: Uint8Array | null, operation: string): T | null | Promise<T | null> {
    const stats = this.#stats(ref.kind);
    if (payload === null) {
      stats.misses++;
      return null;
    }
    try {
      if (ref.format === 'json') {
        const value = parsePythonJson(Buffer.from(payload).toString('utf8')) as T;
        stats.hits++;
        return value;
      }
      const value = decodeValueFast(this.#unseal(ref, payload), this.config);
      if (value instanceof Promise) {
        return value.then(
          (v) => {
            stats.hits++;
            return v as T;
          },
          (error: unknown) => this.#undecodable(ref, error, operation),
        );
      }
      stats.hits++;
      return value as T;
    } catch (error) {
      return this.#undecodable(ref, error, operation);
    }
  }

  #undecodable(ref: CacheKey, error: unknown, operation: string): null {
    const err =
      ref.format === 'json'
        ? new FinRiskCacheError('E_PAYLOAD_CORRUPT', `stored value at ${ref.key} is not JSON: ${(error as Error).message}`, { cause: error })
        : toCacheError(error, 'E_PAYLOAD_CORRUPT', `stored value at ${ref.key} does not decode`);
    const stats = this.#stats(ref.kind);
    stats.misses++;
    stats.errors++;
    this.#report({ error: err, operation, kind: ref.kind, key: ref.key });
    return null;
  }

  // ---------------------------------------------------------------- the API

  /** Reads a value; null when missing, expired, undecodable, or the backend failed. */
  async get<T = unknown>(key: KeyInput): Promise<T | null> {
    const ref = this.resolveKey(key);
    const payload = await this.#op('get', ref.kind, ref.key, null, (s) => s.get(ref.key));
    return this.#decode<T>(ref, payload, 'get');
  }

  /**
   * Reads a value and restarts its time to live (sliding expiry), in one round trip.
   * @param ttl seconds. @default the kind's TTL
   */
  async getAndTouch<T = unknown>(key: KeyInput, options: SetOptions = {}): Promise<T | null> {
    const ref = this.resolveKey(key);
    const ttlMs = this.ttlMs(ref.kind, options.ttl);
    const payload = await this.#op('getAndTouch', ref.kind, ref.key, null, (s) =>
      ttlMs === undefined ? s.get(ref.key) : s.getAndTouch(ref.key, ttlMs),
    );
    return this.#decode<T>(ref, payload, 'getAndTouch');
  }

  /** Writes a value; true when stored, false when the backend failed. */
  async set(key: KeyInput, value: unknown, options: SetOptions = {}): Promise<boolean> {
    const ref = this.resolveKey(key);
    const ttlMs = this.ttlMs(ref.kind, options.ttl);
    let payload = this.#encode(ref, value, options.compress);
    if (payload instanceof Promise) payload = await payload;
    const stats = this.#stats(ref.kind);
    const bytes = payload;
    // A plain SET always answers true from every store; false comes from #op's fallback.
    const ok = await this.#op('set', ref.kind, ref.key, false, (s) => s.set(ref.key, bytes, { ttlMs }));
    if (ok) stats.writes++;
    else stats.writeFailures++;
    return ok;
  }

  /** Writes only when the key does not exist (a lock, a first writer wins); false when it existed or the backend failed. */
  async setIfAbsent(key: KeyInput, value: unknown, options: SetOptions = {}): Promise<boolean> {
    const ref = this.resolveKey(key);
    const ttlMs = this.ttlMs(ref.kind, options.ttl);
    const payload = await this.#encode(ref, value);
    return this.#op('setIfAbsent', ref.kind, ref.key, false, (s) => s.set(ref.key, payload, { ttlMs, ifAbsent: true }));
  }

  /** Deletes a key only if it still holds `value` (releasing a lock you own). */
  async deleteIfEquals(key: KeyInput, value: unknown): Promise<boolean> {
    const ref = this.resolveKey(key);
    const payload = await this.#encode(ref, value);
    return this.#op('deleteIfEquals', ref.kind, ref.key, false, (s) => s.deleteIfEquals(ref.key, payload));
  }

  /** True when the key exists; false when it does not or the backend failed. */
  async exists(key: KeyInput): Promise<boolean> {
    const ref = this.resolveKey(key);
    return this.#op('exists', ref.kind, ref.key, false, (s) => s.exists(ref.key));
  }

  /** Deletes a key; true when it existed. */
  async delete(key: KeyInput): Promise<boolean> {
    const ref = this.resolveKey(key);
    return this.#op('delete', ref.kind, ref.key, false, async (s) => (await s.delete([ref.key])) > 0);
  }

  /** Deletes keys in one round trip; returns how many existed (0 when the backend failed). */
  async deleteMany(keys: readonly KeyInput[]): Promise<number> {
    const refs = keys.map((k) => this.resolveKey(k));
    if (refs.length === 0) return 0;
    return this.#op('deleteMany', refs[0]!.kind, undefined, 0, (s) => s.delete(refs.map((r) => r.key)));
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
    const ref = this.resolveKey(key);
    return this.#op<number | null>('ttl', ref.kind, ref.key, null, (s) => s.ttl(ref.key));
  }

  /** Sets a key's time to live (seconds); false when the key does not exist or the backend failed. */
  async expire(key: KeyInput, ttl: number): Promise<boolean> {
    const ref = this.resolveKey(key);
    const ttlMs = this.ttlMs(ref.kind, ttl);
    return this.#op('expire', ref.kind, ref.key, false, (s) => s.expire(ref.key, ttlMs!));
  }

  /**
   * Reads many keys in one round trip: one MGET, or for more than 1,000 keys one MGET per 1,000
   * written together as a pipeline (each counts as an operation in stats and events). Values in
   * the order of `keys`; null for misses and for a chunk whose read failed.
   */
  async getMany<T = unknown>(keys: readonly KeyInput[]): Promise<(T | null)[]> {
    const refs = keys.map((k) => this.resolveKey(k));
    const out = new Array<T | null>(refs.length);
    if (refs.length <= GET_MANY_CHUNK) {
      if (refs.length > 0) await this.#getChunk(refs, 0, out);
      return out;
    }
    // A large batch goes as several MGETs written at once (one pipeline), and each chunk is
    // decoded as soon as it arrives, while Redis still answers the next ones.
    const parts: Promise<void>[] = [];
    for (let start = 0; start < refs.length; start += GET_MANY_CHUNK) {
      parts.push(this.#getChunk(refs.slice(start, start + GET_MANY_CHUNK), start, out));
    }
    await Promise.all(parts);
    return out;
  }

  /** Reads `refs` with one store call and decodes them into `out` from index `offset`. */
  async #getChunk<T>(refs: CacheKey[], offset: number, out: (T | null)[]): Promise<void> {
    const payloads = await this.#op('getMany', refs[0]!.kind, undefined, null, (s) => s.getMany(refs.map((r) => r.key)));
    if (payloads === null) {
      this.#stats(refs[0]!.kind).misses += refs.length;
      out.fill(null, offset, offset + refs.length);
      return;
    }
    let pending: Promise<unknown>[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const value = this.#decode<T>(refs[i]!, payloads[i] ?? null, 'getMany');
      if (value instanceof Promise) (pending ??= []).push(value.then((v) => (out[offset + i] = v)));
      else out[offset + i] = value;
    }
    if (pending) await Promise.all(pending);
  }

  /** Writes many entries in one round trip (a pipeline, not a transaction); true when all were stored. */
  async setMany(entries: readonly SetManyEntry[], options: SetOptions = {}): Promise<boolean> {
    if (entries.length === 0) return true;
    const prepared: { ref: CacheKey; key: string; value: Uint8Array; ttlMs: number | undefined }[] = [];
    let pending: Promise<unknown>[] | undefined;
    for (const e of entries) {
      const ref = this.resolveKey(e.key);
      const ttlMs = this.ttlMs(ref.kind, e.ttl === undefined ? options.ttl : e.ttl);
      const value = this.#encode(ref, e.value, e.compress ?? options.compress);
      const entry = { ref, key: ref.key, value: value instanceof Promise ? new Uint8Array(0) : value, ttlMs };
      if (value instanceof Promise) (pending ??= []).push(value.then((v) => (entry.value = v)));
      prepared.push(entry);
    }
    if (pending) await Promise.all(pending);
    const kind = prepared[0]!.ref.kind;
    const ok = await this.#op('setMany', kind, undefined, false, async (s) => {
      await s.setMany(prepared);
      return true;
    });
    for (const p of prepared) {
      if (ok) this.#stats(p.ref.kind).writes++;
      else this.#stats(p.ref.kind).writeFailures++;
    }
    return ok;
  }

  /** Adds 1 to a counter (that never expires) and returns the new value; null when the backend failed. */
  async incr(key: KeyInput): Promise<number | null> {
    const ref = this.resolveKey(key);
    return this.#op<number | null>('incr', ref.kind, ref.key, null, (s) => s.incr(ref.key));
  }

  /** Reads a counter written by {@link Cache.incr}; 0 when it does not exist, null when the backend failed. */
  async getCounter(key: KeyInput): Promise<number | null> {
    const ref = this.resolveKey(key);
    return this.#op<number | null>('getCounter', ref.kind, ref.key, null, async (s) => {
      const raw = await s.get(ref.key);
      return raw === null ? 0 : Number(Buffer.from(raw).toString('utf8'));
    });
  }

  #resolvePrefix(prefix: string | KeyPrefix): KeyPrefix {
    if (typeof prefix !== 'string') return prefix;
    // Encoding is character by character, so the encoded prefix is a prefix of every encoded key.
    const start = this.keys.prefixOf('kv');
    return { kind: 'kv', prefix: prefix === '' ? start : this.keys.key('kv', prefix).key };
  }

  /**
   * Deletes every key that starts with `prefix` (SCAN and UNLINK in batches, never KEYS); a
   * string is a literal start of generic keys, so `*` matches only keys starting with `*`.
   * Returns how many were deleted; 0 when the backend failed.
   */
  async deleteByPrefix(prefix: string | KeyPrefix): Promise<number> {
    const p = this.#resolvePrefix(prefix);
    return this.#op('deleteByPrefix', p.kind, p.prefix, 0, (s) => s.deleteByPrefix(p.prefix));
  }

  /** Counts the keys that start with `prefix` without deleting them (a dry run of deleteByPrefix). */
  async countByPrefix(prefix: string | KeyPrefix): Promise<number> {
    let count = 0;
    for await (const keys of this.scan(prefix)) count += keys.length;
    return count;
  }

  /**
   * Full keys that start with `prefix`, in batches. Backend failures end the iteration early
   * and are reported as an error event (or thrown in strict mode).
   */
  async *scan(prefix: string | KeyPrefix, batchSize = 1000): AsyncIterable<string[]> {
    const p = this.#resolvePrefix(prefix);
    const store = this.#store ?? (await this.connect());
    try {
      for await (const keys of store.scan(p.prefix, batchSize)) yield keys;
    } catch (error) {
      const err = toCacheError(error, 'E_INTERNAL', 'scan failed');
      this.#stats(p.kind).errors++;
      this.#report({ error: err, operation: 'scan', kind: p.kind, key: p.prefix });
      if (this.config.strict) throw err;
    }
  }

  // ---------------------------------------------------------------- health and stats

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

  /** This process's own counters per kind (no round trip). */
  processStats(): CacheStats['process'] {
    let hits = 0;
    let misses = 0;
    const byKind: Record<string, KindStats> = {};
    for (const [kind, s] of this.#kindStats) {
      byKind[kind] = { ...s };
      hits += s.hits;
      misses += s.misses;
    }
    return { hits, misses, hitRate: hitRate(hits, misses), byKind };
  }

  /** Server and process statistics, with a health status; never throws for backend failures. */
  async stats(): Promise<CacheStats> {
    const store = await this.connect();
    let info: StoreInfo | undefined;
    let latencyMs = 0;
    let error: string | undefined;
    try {
      latencyMs = await store.ping();
      info = await store.info();
    } catch (e) {
      error = toCacheError(e, 'E_INTERNAL', 'stats failed').message;
    }
    const status: CacheStatus = info === undefined ? 'unhealthy' : this.status;
    const i: StoreInfo = info ?? {
      version: 'unknown', connectedClients: 0, usedMemoryBytes: 0, totalCommandsProcessed: 0, keyspaceHits: 0,
      keyspaceMisses: 0, maxMemoryBytes: 0, maxMemoryPolicy: 'unknown', evictedKeys: 0, expiredKeys: 0, keys: 0,
    };
    const reason = error ?? (status !== 'healthy' ? this.#lastError?.message ?? (this.#fallback ? 'running on the fallback store' : undefined) : undefined);
    return {
      status,
      backend: store.backend,
      location: store.location,
      ...(reason ? { error: reason } : {}),
      serverVersion: i.version,
      connectedClients: i.connectedClients,
      usedMemory: formatBytes(i.usedMemoryBytes),
      usedMemoryBytes: i.usedMemoryBytes,
      hitRate: hitRate(i.keyspaceHits, i.keyspaceMisses),
      totalCommandsProcessed: i.totalCommandsProcessed,
      keyspaceHits: i.keyspaceHits,
      keyspaceMisses: i.keyspaceMisses,
      maxMemoryBytes: i.maxMemoryBytes,
      maxMemoryPolicy: i.maxMemoryPolicy,
      evictedKeys: i.evictedKeys,
      expiredKeys: i.expiredKeys,
      keys: i.keys,
      latencyMs,
      ...(i.nodes ? { nodes: i.nodes } : {}),
      process: this.processStats(),
    };
  }

  /** Closes the connection or file. The cache cannot be used afterwards. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const store = this.#store ?? (await this.#resolving?.catch(() => undefined));
    this.#store = undefined;
    await store?.close();
  }
}

/** Creates an independent cache; it connects on first use. */
export function createCache(options: CreateCacheOptions = {}): Cache {
  return new Cache(options);
}
