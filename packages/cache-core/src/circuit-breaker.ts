import { settingDefault } from './settings.js';

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive connection failures that open the circuit. @default 5 */
  threshold?: number;
  /** How long an open circuit refuses work before it lets one probe through, in ms. @default 1000 */
  cooldownMs?: number;
}

/** State of a {@link CircuitBreaker}. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Stops sending work to a server that keeps failing. Closed: everything passes. After
 * `threshold` consecutive failures it opens: calls are refused at once (the cache answers
 * miss/false without waiting for a timeout). After `cooldownMs` one call passes as a probe
 * (half-open); its success closes the circuit, its failure opens it for another cooldown.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  #failures = 0;
  #openedAt = 0;
  #state: CircuitState = 'closed';

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.threshold ?? settingDefault<number>('breakerThreshold');
    this.#cooldownMs = options.cooldownMs ?? settingDefault<number>('breakerCooldownMs');
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** True when a call may go to the server now; in half-open state only the first caller gets true. */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open' && Date.now() - this.#openedAt >= this.#cooldownMs) {
      this.#state = 'half-open';
      return true; // this caller is the probe
    }
    return false;
  }

  /** Records a call that reached the server and got an answer. */
  success(): void {
    this.#failures = 0;
    this.#state = 'closed';
  }

  /** Records a connection failure or timeout; returns true when this failure opened the circuit. */
  failure(): boolean {
    this.#failures++;
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.#threshold)) {
      const opened = this.#state === 'closed';
      this.#state = 'open';
      this.#openedAt = Date.now();
      return opened;
    }
    return false;
  }
}
