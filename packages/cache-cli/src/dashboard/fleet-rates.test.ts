import type { KindStats, PublishedStats } from '@finrisk/cache-core';
import { describe, expect, it } from 'vitest';
import { FleetRates } from './fleet-rates.js';

function kind(hits: number, misses: number, operations = hits + misses, totalLatencyMs = operations): KindStats {
  return { hits, misses, writes: 0, writeFailures: 0, errors: 0, operations, totalLatencyMs, l1Hits: 0, l1Misses: 0, l1Evictions: 0, l1Invalidations: 0, l1Bytes: 0 };
}

function record(instance: string, publishedAt: number, byKind: Record<string, KindStats>): PublishedStats {
  return {
    format: 'finrisk-stats', formatVersion: 1, service: 'scoring', instance, host: 'h', pid: 1, startedAt: 0, publishedAt, intervalSeconds: 10,
    process: { hits: 0, misses: 0, hitRate: 0, byKind },
  };
}

describe('FleetRates', () => {
  it('has no rate for an instance seen once: its totals since start are not a burst', () => {
    const rates = new FleetRates();
    rates.update([record('a', 10_000, { prediction: kind(1000, 0) })]);
    expect(rates.byKind()).toEqual({});
  });

  it('rates each instance over its own last interval, then adds them up', () => {
    const rates = new FleetRates();
    rates.update([record('a', 0, { prediction: kind(10, 10) }), record('b', 0, { prediction: kind(0, 0) })]);
    rates.update([record('a', 10_000, { prediction: kind(40, 20, 40, 80) }), record('b', 5_000, { prediction: kind(10, 0, 10, 10) })]);
    // a: 30 hits, 10 misses over 10 s (20 operations, 60 ms); b: 10 hits over 5 s (10 operations, 10 ms)
    expect(rates.byKind().prediction).toEqual({ hitRate: 40 / 50, opsPerSec: 20 / 10 + 10 / 5, latencyMs: 70 / 30 });
  });

  it('keeps the last rate while the record is unchanged, and forgets an instance that stopped publishing', () => {
    const rates = new FleetRates();
    rates.update([record('a', 0, { feature: kind(0, 0) })]);
    rates.update([record('a', 10_000, { feature: kind(5, 5) })]);
    rates.update([record('a', 10_000, { feature: kind(5, 5) })]);
    expect(rates.byKind().feature?.hitRate).toBe(0.5);
    rates.update([]);
    expect(rates.byKind()).toEqual({});
  });

  it('reads a counter that went down (a reset) as no activity, not a negative rate', () => {
    const rates = new FleetRates();
    rates.update([record('a', 0, { kv: kind(100, 100) })]);
    rates.update([record('a', 10_000, { kv: kind(1, 1) })]);
    expect(rates.byKind().kv).toEqual({ hitRate: null, opsPerSec: 0, latencyMs: null });
  });
});
