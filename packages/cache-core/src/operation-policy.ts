import type { Backend } from './backend.js';
import type { CacheErrorEvent, CacheEvents } from './cache-types.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CacheConfig } from './config.js';
import { FinRiskCacheError, toCacheError, type CacheErrorCode } from './errors.js';
import type { Health } from './health.js';
import type { KindStatsRegistry } from './kind-stats.js';
import { capabilitiesOf } from './stores/capabilities.js';
import type { CacheStore } from './stores/store.js';
import type { TypedEmitter } from './typed-emitter.js';

const CALLER_ERRORS = new Set<CacheErrorCode>(['E_INVALID_KEY', 'E_INVALID_VALUE', 'E_PAYLOAD_TOO_LARGE', 'E_INVALID_CONFIG', 'E_CLOSED', 'E_SCHEMA']);
const PAYLOAD_ERRORS = new Set<CacheErrorCode>(['E_PAYLOAD_CORRUPT', 'E_PAYLOAD_UNSUPPORTED']);
const CONNECTION_ERRORS = new Set<CacheErrorCode>(['E_REDIS_UNAVAILABLE', 'E_TIMEOUT']);

/** How an operation ended, for callers that must say whether it failed. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: FinRiskCacheError };

/**
 * The per-operation policy in front of the store: the circuit breaker, failures turned into the
 * caller's fallback (a miss, false) plus an `error` event and the degraded state, strict mode,
 * and the per-kind operation counts, latency and `operation` events. The deadlines of each
 * command are the store's (see RedisStore.run).
 */
export class OperationPolicy {
  readonly #config: CacheConfig;
  readonly #backend: Backend;
  readonly #health: Health;
  readonly #stats: KindStatsRegistry;
  readonly #events: TypedEmitter<CacheEvents>;
  readonly #report: (event: CacheErrorEvent) => void;
  readonly breaker: CircuitBreaker;

  constructor(config: CacheConfig, backend: Backend, health: Health, stats: KindStatsRegistry, events: TypedEmitter<CacheEvents>, report: (event: CacheErrorEvent) => void) {
    this.#config = config;
    this.#backend = backend;
    this.#health = health;
    this.#stats = stats;
    this.#events = events;
    this.#report = report;
    this.breaker = new CircuitBreaker({ threshold: config.breakerThreshold, cooldownMs: config.breakerCooldownMs });
  }

  /**
   * Runs one store operation. Invalid input throws; backend failures become `fallback`, an
   * `error` event and (for connection failures) the degraded state; strict mode rethrows them.
   * Every call's hot path: no promise or object of its own beyond `fn`'s.
   */
  async run<T>(operation: string, kind: string, key: string | undefined, fallback: T, fn: (store: CacheStore) => Promise<T>): Promise<T> {
    const start = performance.now();
    let ok = false;
    let breaker: CircuitBreaker | undefined;
    let used: CacheStore | undefined;
    try {
      const store = (used = this.#backend.store ?? (await this.#backend.connect()));
      if (store.backend === 'redis') {
        if (!this.breaker.allow()) {
          this.#refused(store);
          return fallback;
        }
        breaker = this.breaker;
      }
      const value = await fn(store);
      ok = true;
      this.#succeeded(store, breaker);
      return value;
    } catch (error) {
      this.#failed(error, operation, kind, key, used, breaker);
      return fallback;
    } finally {
      this.#timed(operation, kind, start, ok);
    }
  }

  /** {@link OperationPolicy.run} that says what happened: the value, or the error that was reported. */
  async attempt<T>(operation: string, kind: string, key: string | undefined, fn: (store: CacheStore) => Promise<T>): Promise<Outcome<T>> {
    const start = performance.now();
    let ok = false;
    let breaker: CircuitBreaker | undefined;
    let used: CacheStore | undefined;
    try {
      const store = (used = this.#backend.store ?? (await this.#backend.connect()));
      if (store.backend === 'redis') {
        if (!this.breaker.allow()) return { ok: false, error: this.#refused(store) };
        breaker = this.breaker;
      }
      const value = await fn(store);
      ok = true;
      this.#succeeded(store, breaker);
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: this.#failed(error, operation, kind, key, used, breaker) };
    } finally {
      this.#timed(operation, kind, start, ok);
    }
  }

  /**
   * {@link OperationPolicy.run} for an operation that yields pages (a scan): the breaker, the
   * failure handling and the counts of one operation over the whole walk. A failure ends the
   * iteration early (thrown in strict mode); a caller that stops early ends it as a success.
   */
  async *stream<T>(operation: string, kind: string, key: string | undefined, fn: (store: CacheStore) => AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    const start = performance.now();
    let failed = false;
    let breaker: CircuitBreaker | undefined;
    let used: CacheStore | undefined;
    try {
      const store = (used = this.#backend.store ?? (await this.#backend.connect()));
      if (store.backend === 'redis') {
        if (!this.breaker.allow()) {
          failed = true;
          this.#refused(store);
          return;
        }
        breaker = this.breaker;
      }
      yield* fn(store);
    } catch (error) {
      failed = true;
      this.#failed(error, operation, kind, key, used, breaker);
    } finally {
      // Also when the caller stopped early (the iterator's return): every page it asked for came.
      if (!failed && used) this.#succeeded(used, breaker);
      this.#timed(operation, kind, start, !failed);
    }
  }

  /** A call the open circuit keeps away from Redis, without a round trip; thrown in strict mode. */
  #refused(store: CacheStore): FinRiskCacheError {
    const error = new FinRiskCacheError(
      'E_REDIS_UNAVAILABLE',
      `Redis at ${store.location} keeps failing; calls are paused for up to ${this.#config.breakerCooldownMs} ms (circuit open)`,
    );
    if (this.#config.strict) throw error;
    return error;
  }

  #succeeded(store: CacheStore, breaker: CircuitBreaker | undefined): void {
    breaker?.success();
    if (!this.#health.isRecovering) return;
    const connection = capabilitiesOf(store).connection;
    if (!connection || connection.isReady) this.#health.recover();
  }

  /**
   * A failed call: caller errors are thrown; backend errors are counted and reported, trip the
   * breaker when they are connection failures, and are thrown in strict mode (payload errors
   * never are: a bad stored value is a miss). Returns the error reported.
   */
  #failed(error: unknown, operation: string, kind: string, key: string | undefined, used: CacheStore | undefined, breaker: CircuitBreaker | undefined): FinRiskCacheError {
    let err = toCacheError(error, 'E_INTERNAL', `${operation} failed`);
    // "The client is offline" says less than the connection error that made it so (WRONGPASS, a bad certificate).
    const connection = err.code === 'E_REDIS_UNAVAILABLE' ? capabilitiesOf(used).connection : undefined;
    if (connection && !connection.isReady && connection.lastError) err = connection.lastError;
    if (CALLER_ERRORS.has(err.code)) throw err;
    this.#stats.of(kind).errors++;
    this.#report({ error: err, operation, kind, ...(key === undefined ? {} : { key }) });
    if (CONNECTION_ERRORS.has(err.code)) {
      breaker?.failure();
      this.#health.degrade(err);
    } else breaker?.success(); // the server answered, with an error of its own
    if (this.#config.strict && !PAYLOAD_ERRORS.has(err.code)) throw err;
    return err;
  }

  #timed(operation: string, kind: string, start: number, ok: boolean): void {
    const durationMs = performance.now() - start;
    const stats = this.#stats.of(kind);
    stats.operations++;
    stats.totalLatencyMs += durationMs;
    if (this.#events.hasListeners('operation')) this.#events.emit('operation', { operation, kind, durationMs, ok });
  }
}
