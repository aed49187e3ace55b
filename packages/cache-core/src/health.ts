import type { CacheEvents } from './cache-types.js';
import type { FinRiskCacheError } from './errors.js';
import type { CacheStatus } from './stats.js';
import type { TypedEmitter } from './typed-emitter.js';

/**
 * Whether the cache is healthy, and the `degraded` / `recovered` events. Degraded: the backend
 * is failing (connection down, commands timing out), or `auto` fell back to the embedded store.
 */
export class Health {
  readonly #events: TypedEmitter<CacheEvents>;
  readonly #backendName: () => string;
  #degradedSince: number | undefined;
  #lastError: FinRiskCacheError | undefined;
  #fallback = false;

  /** @param backendName the backend named in events (the store in use, else the configured one) */
  constructor(events: TypedEmitter<CacheEvents>, backendName: () => string) {
    this.#events = events;
    this.#backendName = backendName;
  }

  /** `degraded` while failing or on a fallback store; `unhealthy` is decided by a failed round trip, not here. */
  get status(): CacheStatus {
    return this.#degradedSince !== undefined || this.#fallback ? 'degraded' : 'healthy';
  }

  /** True while degraded. */
  get isDegraded(): boolean {
    return this.status !== 'healthy';
  }

  /** True when the cache runs on the fallback store for good. */
  get isFallback(): boolean {
    return this.#fallback;
  }

  /** The error that made it degraded, while it is. */
  get lastError(): FinRiskCacheError | undefined {
    return this.#lastError;
  }

  /** Records a failure; the first one since healthy emits `degraded`. */
  degrade(error: FinRiskCacheError): void {
    this.#lastError = error;
    if (this.#degradedSince !== undefined) return;
    this.#degradedSince = Date.now();
    this.#events.emit('degraded', { error, backend: this.#backendName() });
  }

  /** Marks the cache as running on the fallback store (degraded until it is closed). */
  fellBack(error: FinRiskCacheError): void {
    this.#fallback = true;
    this.degrade(error);
  }

  /** Records a success; emits `recovered` when it ends a degraded period (never on a fallback store). */
  recover(): void {
    if (this.#degradedSince === undefined || this.#fallback) return;
    const downForMs = Date.now() - this.#degradedSince;
    this.#degradedSince = undefined;
    this.#lastError = undefined;
    this.#events.emit('recovered', { backend: this.#backendName(), downForMs });
  }

  /** True while a degraded period is open (a success may end it). */
  get isRecovering(): boolean {
    return this.#degradedSince !== undefined && !this.#fallback;
  }
}
