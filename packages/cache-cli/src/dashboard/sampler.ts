import { setTimeout as sleep } from 'node:timers/promises';
import { describeRedisAddress, type Cache, type CacheStats, type CacheStatus, type ServiceStats } from '@finrisk/cache-core';
import { rootMessage } from '../command-context.js';
import type { DashboardOptions } from './dashboard-options.js';
import { FleetRates, type KindRate } from './fleet-rates.js';
import { boundFleet } from './fleet-view.js';
import { takeKeyCensus, type KeyCensus } from './key-census.js';
import { readSentinelTopology, topologyFromStats, type TopologyView } from './topology.js';

/** One sample of the server, with the fleet's latest rates: one point of every chart. */
export interface ServerSample {
  /** When it was taken, ms since the epoch. */
  t: number;
  status: CacheStatus;
  /** Why the status is not healthy. */
  error: string | null;
  /** The circuit breaker in front of Redis. */
  circuit: 'closed' | 'open' | 'half-open';
  serverVersion: string;
  usedMemoryBytes: number;
  /** 0 when the server has no memory limit. */
  maxMemoryBytes: number;
  maxMemoryPolicy: string;
  keys: number;
  connectedClients: number;
  evictedKeys: number;
  expiredKeys: number;
  /** Round trip of a PING, in ms; null when the server did not answer. */
  latencyMs: number | null;
  /** Server-wide keyspace hit rate since its counters started, 0..1; null before any read. */
  hitRate: number | null;
  /** Server-wide keyspace hit rate since the previous sample; null when there were no reads. */
  intervalHitRate: number | null;
  /** Commands the server processed per second since the previous sample (the dashboard's own included). */
  opsPerSec: number | null;
  /** The fleet's recent rates per kind (from the latest fleet read): at most MAX_CHART_KINDS kinds and `(other kinds)`. */
  fleet: Record<string, KindRate>;
}

/** The fleet's counters per service and kind, as `finrisk-cache stats` shows them, within the dashboard's bounds (fleet-view.ts). */
export interface FleetView {
  /** When they were read, ms since the epoch. */
  at: number;
  /** At most MAX_FLEET_SERVICES, each with at most MAX_FLEET_KINDS kinds. */
  services: ServiceStats[];
  /** Services past MAX_FLEET_SERVICES, added up under `(other services)`. */
  otherServices: number;
  /** Kinds past MAX_FLEET_KINDS, added up under `(other kinds)` in their service. */
  otherKinds: number;
  /** Instances that published within their last three intervals. */
  instances: number;
  /** Why the last read failed (the previous figures are kept). */
  error: string | null;
}

/** What the page needs to know about the dashboard itself. */
export interface DashboardInfo {
  /** `redis`, `local` or `memory`. */
  backend: string;
  /** Masked: never a password. */
  address: string;
  topology: TopologyView['kind'];
  keyPrefix: string;
  allowWrites: boolean;
  refreshSeconds: number;
  fleetIntervalSeconds: number;
  keysIntervalSeconds: number;
  historySeconds: number;
  startedAt: number;
}

/** Everything the page shows, as sent when it connects. */
export interface DashboardState {
  info: DashboardInfo;
  samples: ServerSample[];
  fleet: FleetView | null;
  /** Keys per kind; `error` says why the last count failed (the previous counts are kept). */
  census: (KeyCensus & { error: string | null }) | null;
  topology: TopologyView | null;
}

/** An update pushed to the page. */
export type SamplerEvent =
  | { type: 'sample'; data: ServerSample }
  | { type: 'fleet'; data: FleetView }
  | { type: 'census'; data: NonNullable<DashboardState['census']> }
  | { type: 'topology'; data: TopologyView };

/** Most samples kept, whatever --history and --refresh ask: up to about 1.2 KB of JSON each (with the fleet's 8 busiest kinds and `(other kinds)`), so about 24 MB, what a page receives when it connects. */
export const MAX_SAMPLES = 20_000;

/** Scans (fleet read, key count) wait at least this many times their own duration before the next: at most a twentieth of the time is spent scanning. */
const SCAN_IDLE_FACTOR = 19;

/**
 * Samples the cache while the dashboard runs, on three clocks: the server (PING, INFO) every
 * refresh; the fleet's published counters (a SCAN of the stats prefix and MGETs, plus the
 * sentinels) every fleet interval; the keys per kind (a paced SCAN of the key prefix) every keys
 * interval. A scan that takes long pushes the next one back, so that a big keyspace is not
 * walked back to back. History is kept in memory, as many samples as fit in `historyMs`.
 */
export class DashboardSampler {
  readonly #cache: Cache;
  readonly #options: DashboardOptions;
  readonly #capacity: number;
  readonly #samples: ServerSample[] = [];
  readonly #listeners = new Set<(event: SamplerEvent) => void>();
  readonly #rates = new FleetRates();
  readonly #startedAt = Date.now();
  #previous: { t: number; stats: CacheStats } | undefined;
  #fleet: FleetView | null = null;
  #census: DashboardState['census'] = null;
  #topology: TopologyView | null = null;
  #topologyText = '';

  constructor(cache: Cache, options: DashboardOptions) {
    this.#cache = cache;
    this.#options = options;
    this.#capacity = Math.min(MAX_SAMPLES, Math.max(2, Math.ceil(options.historyMs / options.refreshMs)));
  }

  /** Calls `listener` with every update; returns a function that stops it. */
  subscribe(listener: (event: SamplerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Everything sampled so far. */
  state(): DashboardState {
    const config = this.#cache.config;
    const backend = this.#cache.store?.backend ?? config.backend;
    const o = this.#options;
    return {
      info: {
        backend,
        address: backend === 'redis' || backend === 'auto' ? describeRedisAddress(config) : (this.#cache.store?.location ?? backend),
        topology: this.#topology?.kind ?? (config.clusterNodes ? 'cluster' : config.sentinels ? 'sentinel' : 'single'),
        keyPrefix: config.keyPrefix,
        allowWrites: o.allowWrites,
        refreshSeconds: o.refreshMs / 1000,
        fleetIntervalSeconds: o.fleetIntervalMs / 1000,
        keysIntervalSeconds: o.keysIntervalMs / 1000,
        historySeconds: o.historyMs / 1000,
        startedAt: this.#startedAt,
      },
      samples: [...this.#samples],
      fleet: this.#fleet,
      census: this.#census,
      topology: this.#topology,
    };
  }

  /** Runs the three clocks until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.#options;
    // The first sample connects; the scans start after it, on a connection that is up (or known down).
    const first = performance.now();
    await this.#sampleServer();
    await Promise.all([
      this.#every(signal, o.refreshMs, 0, () => this.#sampleServer(), performance.now() - first),
      this.#every(signal, o.fleetIntervalMs, SCAN_IDLE_FACTOR, () => this.#readFleet()),
      this.#every(signal, o.keysIntervalMs, SCAN_IDLE_FACTOR, () => this.#countKeys(signal)),
    ]);
  }

  #emit(event: SamplerEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Runs `task` until `signal` aborts, `intervalMs` apart (or `idleFactor` times its duration, if longer); `done` says a first run already took that long. */
  async #every(signal: AbortSignal, intervalMs: number, idleFactor: number, task: () => Promise<void>, done?: number): Promise<void> {
    let took = done;
    while (!signal.aborted) {
      if (took !== undefined) {
        try {
          await sleep(Math.max(intervalMs - took, idleFactor * took, 0), undefined, { signal });
        } catch {
          return; // aborted
        }
      }
      const started = performance.now();
      try {
        await task();
      } catch {
        // each task records its own failure for the page; a failed round is retried at the next tick
      }
      took = performance.now() - started;
    }
  }

  async #sampleServer(): Promise<void> {
    let stats: CacheStats;
    try {
      stats = await this.#cache.stats();
    } catch (error) {
      stats = { ...emptyStats(this.#cache), error: rootMessage(error) };
    }
    const t = Date.now();
    const healthy = stats.status !== 'unhealthy';
    const previous = healthy ? this.#previous : undefined;
    let intervalHitRate: number | null = null;
    let opsPerSec: number | null = null;
    if (previous) {
      const hits = stats.keyspaceHits - previous.stats.keyspaceHits;
      const misses = stats.keyspaceMisses - previous.stats.keyspaceMisses;
      const commands = stats.totalCommandsProcessed - previous.stats.totalCommandsProcessed;
      const seconds = (t - previous.t) / 1000;
      // Negative differences: the server restarted or its counters were reset (CONFIG RESETSTAT).
      if (hits >= 0 && misses >= 0 && hits + misses > 0) intervalHitRate = hits / (hits + misses);
      if (commands >= 0 && seconds > 0) opsPerSec = commands / seconds;
    }
    this.#previous = healthy ? { t, stats } : undefined;
    const reads = stats.keyspaceHits + stats.keyspaceMisses;
    const sample: ServerSample = {
      t,
      status: stats.status,
      error: stats.error ?? null,
      circuit: this.#cache.circuitState,
      serverVersion: stats.serverVersion,
      usedMemoryBytes: stats.usedMemoryBytes,
      maxMemoryBytes: stats.maxMemoryBytes,
      maxMemoryPolicy: stats.maxMemoryPolicy,
      keys: stats.keys,
      connectedClients: stats.connectedClients,
      evictedKeys: stats.evictedKeys,
      expiredKeys: stats.expiredKeys,
      latencyMs: healthy ? stats.latencyMs : null,
      hitRate: healthy && reads > 0 ? stats.hitRate : null,
      intervalHitRate,
      opsPerSec,
      fleet: this.#rates.byKind(),
    };
    this.#samples.push(sample);
    if (this.#samples.length > this.#capacity) this.#samples.splice(0, this.#samples.length - this.#capacity);
    this.#emit({ type: 'sample', data: sample });
    if (!this.#cache.config.sentinels) this.#setTopology(topologyFromStats(this.#cache.config, stats));
  }

  #setTopology(topology: TopologyView): void {
    const text = JSON.stringify(topology);
    if (text === this.#topologyText) return;
    this.#topologyText = text;
    this.#topology = topology;
    this.#emit({ type: 'topology', data: topology });
  }

  async #readFleet(): Promise<void> {
    if (this.#cache.config.sentinels) this.#setTopology(await readSentinelTopology(this.#cache.config));
    try {
      const fleet = await this.#cache.fleetStats();
      if (!fleet) {
        // Not Redis (no fleet there), or the read failed: the previous figures stay, with the reason.
        if (this.#cache.store?.backend !== 'redis') return;
        throw new Error('the fleet statistics could not be read');
      }
      this.#rates.update(fleet.instances);
      // Only what fits the dashboard's bounds is kept: the read itself is dropped here.
      const { services, otherServices, otherKinds } = boundFleet(fleet.services);
      this.#fleet = { at: Date.now(), services, otherServices, otherKinds, instances: fleet.instances.length, error: null };
    } catch (error) {
      const previous = this.#fleet;
      this.#fleet = {
        at: previous?.at ?? Date.now(), services: previous?.services ?? [], otherServices: previous?.otherServices ?? 0, otherKinds: previous?.otherKinds ?? 0,
        instances: previous?.instances ?? 0, error: rootMessage(error),
      };
    }
    this.#emit({ type: 'fleet', data: this.#fleet });
  }

  async #countKeys(signal: AbortSignal): Promise<void> {
    try {
      this.#census = { ...(await takeKeyCensus(this.#cache, signal)), error: null };
    } catch (error) {
      if (signal.aborted) return;
      this.#census = this.#census?.kinds.length
        ? { ...this.#census, error: rootMessage(error) }
        : { at: Date.now(), durationMs: 0, kinds: [], models: [], error: rootMessage(error) };
    }
    this.#emit({ type: 'census', data: this.#census });
  }
}

/** A sample of a cache whose stats() itself failed. */
function emptyStats(cache: Cache): CacheStats {
  return {
    status: 'unhealthy', backend: cache.store?.backend ?? 'redis', location: describeRedisAddress(cache.config), serverVersion: 'unknown',
    connectedClients: 0, usedMemory: '0B', usedMemoryBytes: 0, hitRate: 0, totalCommandsProcessed: 0, keyspaceHits: 0, keyspaceMisses: 0,
    maxMemoryBytes: 0, maxMemoryPolicy: 'unknown', evictedKeys: 0, expiredKeys: 0, keys: 0, latencyMs: 0, process: cache.processStats(),
  };
}
