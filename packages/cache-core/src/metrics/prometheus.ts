import type { Cache, OperationEvent } from '../cache.js';

// Only the parts of prom-client used here, so that it stays an optional peer.
interface PromRegistry {
  registerMetric(metric: unknown): void;
}
interface PromModule {
  register: PromRegistry;
  Counter: new (config: Record<string, unknown>) => { inc(labels: Record<string, string>, value?: number): void; reset(): void };
  Gauge: new (config: Record<string, unknown>) => { set(labels: Record<string, string>, value: number): void; reset(): void };
  Histogram: new (config: Record<string, unknown>) => { observe(labels: Record<string, string>, value: number): void };
}

type CounterField = 'hits' | 'misses' | 'writes' | 'writeFailures' | 'errors' | 'l1Hits' | 'l1Misses' | 'l1Evictions' | 'l1Invalidations';

/** Options of {@link registerPrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** The prom-client module (`import * as client from 'prom-client'`). */
  client: unknown;
  /** Registry to register in. @default the client's default registry */
  registry?: unknown;
  /** Prefix of every metric name. @default 'finrisk_cache_' */
  prefix?: string;
  /** Histogram buckets of operation durations, in seconds. @default 0.0005 to 1 */
  buckets?: number[];
}

/**
 * Exposes a cache's hits, misses, writes, errors, L1 figures, operation latency and degraded state per kind
 * as Prometheus metrics. Counters are read from the cache when Prometheus scrapes, so they cost
 * nothing on the request path; latency is a histogram fed by `operation` events. One line:
 * `registerPrometheusMetrics(cache, { client: promClient })`. Returns a function that stops the
 * latency feed.
 */
export function registerPrometheusMetrics(cache: Cache, options: PrometheusMetricsOptions): () => void {
  const prom = options.client as PromModule;
  const registers = [(options.registry ?? prom.register) as PromRegistry];
  const p = options.prefix ?? 'finrisk_cache_';
  // Totals since start, read from the cache at scrape time. They are counters (the `_total`
  // convention): reset, then increased to the total, which only ever grows.
  const fromStats = (name: string, help: string, field: CounterField) =>
    new prom.Counter({
      name: `${p}${name}`,
      help,
      labelNames: ['kind'],
      registers,
      collect(this: { inc(labels: Record<string, string>, value: number): void; reset(): void }) {
        this.reset();
        for (const [kind, s] of Object.entries(cache.processStats().byKind)) if (s[field] > 0) this.inc({ kind }, s[field]);
      },
    });
  fromStats('hits_total', 'Reads that found a value, per kind.', 'hits');
  fromStats('misses_total', 'Reads that found nothing, per kind.', 'misses');
  fromStats('writes_total', 'Writes stored, per kind.', 'writes');
  fromStats('write_failures_total', 'Writes not stored because the backend failed, per kind.', 'writeFailures');
  fromStats('errors_total', 'Backend or payload errors, per kind.', 'errors');
  fromStats('l1_hits_total', 'Reads answered by the in-process L1 tier, per kind.', 'l1Hits');
  fromStats('l1_misses_total', 'Reads of a kind L1 holds that went to Redis, per kind.', 'l1Misses');
  fromStats('l1_evictions_total', 'Entries L1 dropped to stay under its size, per kind.', 'l1Evictions');
  fromStats('l1_invalidations_total', 'Entries L1 dropped because the key changed or tracking was lost, per kind.', 'l1Invalidations');
  new prom.Gauge({
    name: `${p}l1_bytes`,
    help: 'Bytes the in-process L1 tier holds, per kind.',
    labelNames: ['kind'],
    registers,
    collect(this: { set(labels: Record<string, string>, value: number): void; reset(): void }) {
      this.reset();
      for (const [kind, s] of Object.entries(cache.processStats().byKind)) if (s.l1Bytes > 0 || s.l1Hits + s.l1Misses > 0) this.set({ kind }, s.l1Bytes);
    },
  });
  new prom.Gauge({
    name: `${p}degraded`,
    help: '1 while the cache is degraded (backend failing or a fallback store in use), else 0.',
    labelNames: ['backend'],
    registers,
    collect(this: { set(labels: Record<string, string>, value: number): void; reset(): void }) {
      this.reset();
      this.set({ backend: cache.store?.backend ?? cache.config.backend }, cache.isDegraded ? 1 : 0);
    },
  });
  const latency = new prom.Histogram({
    name: `${p}operation_duration_seconds`,
    help: 'Time of cache operations in the store, per kind, operation and outcome.',
    labelNames: ['kind', 'operation', 'outcome'],
    buckets: options.buckets ?? [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  return cache.on('operation', (e: OperationEvent) =>
    latency.observe({ kind: e.kind, operation: e.operation, outcome: e.ok ? 'ok' : 'error' }, e.durationMs / 1000),
  );
}
