import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import * as promClient from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache, type Cache } from '../cache.js';
import { registerOpenTelemetryMetrics } from './opentelemetry.js';
import { registerPrometheusMetrics } from './prometheus.js';

let cache: Cache;
afterEach(async () => cache?.close());

async function exercise(c: Cache) {
  await c.set(c.keys.key('prediction', 'C1', 'credit'), { risk_score: 0.5 });
  await c.get(c.keys.key('prediction', 'C1', 'credit'));
  await c.get(c.keys.key('prediction', 'C2', 'credit'));
  await c.get('nothing');
}

describe('metrics adapters', () => {
  it('exposes hits, misses, writes, degraded state and latency for Prometheus', async () => {
    cache = createCache({ backend: 'memory', envFile: false, env: {} });
    const registry = new promClient.Registry();
    registerPrometheusMetrics(cache, { client: promClient, registry });
    await exercise(cache);
    const text = await registry.metrics();
    for (const name of ['hits', 'misses', 'writes', 'write_failures', 'errors', 'l1_hits', 'l1_misses', 'l1_evictions', 'l1_invalidations']) {
      expect(text).toContain(`# TYPE finrisk_cache_${name}_total counter`);
    }
    expect(text).toContain('# TYPE finrisk_cache_l1_bytes gauge');
    expect(text).toContain('finrisk_cache_hits_total{kind="prediction"} 1');
    expect(text).toContain('finrisk_cache_misses_total{kind="prediction"} 1');
    expect(text).toContain('finrisk_cache_misses_total{kind="kv"} 1');
    expect(text).toContain('finrisk_cache_writes_total{kind="prediction"} 1');
    expect(text).toContain('finrisk_cache_degraded{backend="memory"} 0');
    expect(text).toMatch(/finrisk_cache_operation_duration_seconds_count\{kind="prediction",operation="get",outcome="ok"\} 2/);
    // A second scrape gives the same totals (collect resets and sets, it does not add twice).
    await cache.get(cache.keys.key('prediction', 'C1', 'credit'));
    expect(await registry.metrics()).toContain('finrisk_cache_hits_total{kind="prediction"} 2');
  });

  it('reports the same through OpenTelemetry instruments', async () => {
    cache = createCache({ backend: 'memory', envFile: false, env: {} });
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    registerOpenTelemetryMetrics(cache, { meter: provider.getMeter('test') });
    await exercise(cache);
    await reader.forceFlush();
    const found = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
    for (const rm of exporter.getMetrics()) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) found.set(m.descriptor.name, m.dataPoints.map((d) => ({ attributes: d.attributes, value: d.value })));
      }
    }
    expect(found.get('finrisk.cache.hits')).toContainEqual({ attributes: { kind: 'prediction' }, value: 1 });
    expect(found.get('finrisk.cache.misses')).toContainEqual({ attributes: { kind: 'kv' }, value: 1 });
    expect(found.get('finrisk.cache.degraded')).toContainEqual({ attributes: { backend: 'memory' }, value: 0 });
    const durations = found.get('finrisk.cache.operation.duration')!;
    expect(durations.some((d) => (d.attributes as Record<string, string>).operation === 'get')).toBe(true);
    await provider.shutdown();
  });
});
