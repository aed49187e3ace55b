import { OpenTelemetry } from '@redis/client';
import type { Cache, OperationEvent } from '../cache.js';

// Only the parts of @opentelemetry/api used here, so that it stays an optional peer.
interface ObservableResult {
  observe(value: number, attributes?: Record<string, string>): void;
}
interface Meter {
  createObservableCounter(name: string, options?: { description?: string }): { addCallback(cb: (r: ObservableResult) => void): void };
  createObservableGauge(name: string, options?: { description?: string }): { addCallback(cb: (r: ObservableResult) => void): void };
  createHistogram(name: string, options?: { description?: string; unit?: string }): { record(value: number, attributes?: Record<string, string>): void };
}

/** Options of {@link registerOpenTelemetryMetrics}. */
export interface OpenTelemetryMetricsOptions {
  /** The meter to create instruments on (`metrics.getMeter('my-service')`). */
  meter: unknown;
  /**
   * Also turn on node-redis's own command metrics (`OpenTelemetry.init`); they cover Redis
   * commands, so this adapter does not time commands again. Call before the cache connects.
   * @default false
   */
  redisCommandMetrics?: boolean;
  /** Prefix of every instrument name. @default 'finrisk.cache.' */
  prefix?: string;
}

let redisMetricsStarted = false;

/**
 * Reports a cache's hits, misses, writes, errors, L1 figures, degraded state and operation latency per kind
 * as OpenTelemetry instruments. Counters are observed at collection time; latency is a histogram
 * fed by `operation` events. Returns a function that stops the latency feed.
 */
export function registerOpenTelemetryMetrics(cache: Cache, options: OpenTelemetryMetricsOptions): () => void {
  const meter = options.meter as Meter;
  const p = options.prefix ?? 'finrisk.cache.';
  if (options.redisCommandMetrics && !redisMetricsStarted) {
    OpenTelemetry.init({ metrics: { enabled: true } } as Parameters<typeof OpenTelemetry.init>[0]);
    redisMetricsStarted = true;
  }
  const fields = {
    hits: 'Reads that found a value', misses: 'Reads that found nothing', writes: 'Writes stored', writeFailures: 'Writes not stored', errors: 'Backend or payload errors',
    l1Hits: 'Reads answered by the in-process L1 tier', l1Misses: 'Reads of a kind L1 holds that went to Redis',
    l1Evictions: 'Entries L1 dropped to stay under its size', l1Invalidations: 'Entries L1 dropped because the key changed or tracking was lost',
  } as const;
  for (const [field, description] of Object.entries(fields) as [keyof typeof fields, string][]) {
    const name = `${p}${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
    meter.createObservableCounter(name, { description }).addCallback((result) => {
      for (const [kind, s] of Object.entries(cache.processStats().byKind)) result.observe(s[field], { kind });
    });
  }
  meter.createObservableGauge(`${p}l1.bytes`, { description: 'Bytes the in-process L1 tier holds' }).addCallback((result) => {
    for (const [kind, s] of Object.entries(cache.processStats().byKind)) if (s.l1Bytes > 0 || s.l1Hits + s.l1Misses > 0) result.observe(s.l1Bytes, { kind });
  });
  meter.createObservableGauge(`${p}degraded`, { description: '1 while the cache is degraded, else 0' }).addCallback((result) => {
    result.observe(cache.isDegraded ? 1 : 0, { backend: cache.store?.backend ?? cache.config.backend });
  });
  const latency = meter.createHistogram(`${p}operation.duration`, { description: 'Time of cache operations in the store', unit: 's' });
  return cache.on('operation', (e: OperationEvent) =>
    latency.record(e.durationMs / 1000, { kind: e.kind, operation: e.operation, outcome: e.ok ? 'ok' : 'error' }),
  );
}
