import type { CacheConfig } from './config.js';
import { newInstanceId, publishStats } from './fleet-stats.js';
import type { CacheStats } from './stats.js';
import type { FleetStatsStore } from './stores/capabilities.js';

/** What the publisher reads from the cache at each publication. */
export interface StatsPublisherSource {
  /** The store to publish to; undefined when the store has no fleet (not Redis) or is not resolved yet. */
  fleet(): FleetStatsStore | undefined;
  /** True while the circuit breaker keeps calls away from Redis. */
  isCircuitOpen(): boolean;
  /** This process's counters now. */
  processStats(): CacheStats['process'];
}

/**
 * Publishes this process's counters to Redis for the fleet view: every `statsIntervalSeconds` once
 * started, and a last time when closed, so that the final figures stay visible for three
 * intervals. The timer does not keep the process alive.
 */
export class StatsPublisher {
  readonly #config: CacheConfig;
  readonly #source: StatsPublisherSource;
  /** This process's name in fleet statistics, and when its counters started. */
  readonly #instance = newInstanceId();
  readonly #startedAt = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(config: CacheConfig, source: StatsPublisherSource) {
    this.#config = config;
    this.#source = source;
  }

  /** Starts publishing every interval, unless `CACHE_STATS_PUBLISH=off` or it already runs. */
  start(): void {
    if (!this.#config.statsPublish || this.#timer) return;
    this.#timer = setInterval(() => void this.publish(), this.#config.statsIntervalSeconds * 1000);
    this.#timer.unref();
  }

  /** Publishes now. True when written; false without a fleet store, with the circuit open, or when Redis failed. */
  async publish(): Promise<boolean> {
    const fleet = this.#source.fleet();
    if (!fleet || this.#source.isCircuitOpen()) return false;
    try {
      await publishStats(fleet, this.#config, this.#instance, this.#startedAt, this.#source.processStats());
      return true;
    } catch {
      // The cache reports Redis's failures through its own calls; a missed publication is not one.
      return false;
    }
  }

  /** Stops the timer and, when it ran, publishes a last time (bounded by the command deadline). */
  async close(): Promise<void> {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.publish();
  }
}
