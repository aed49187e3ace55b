import type { KindStats, PublishedStats } from '@finrisk/cache-core';
import { describe, expect, it } from 'vitest';
import { FleetRates, MAX_CHART_KINDS, MAX_RATE_INSTANCES, OTHER_KINDS } from './fleet-rates.js';

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

  it('answers at most MAX_CHART_KINDS kinds, the busiest, and adds the others up under (other kinds)', () => {
    const rates = new FleetRates();
    const kinds = (scale: number) => Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${String(i).padStart(2, '0')}`, kind(i * scale, i * scale, 2 * i * scale, 2 * i * scale)]));
    rates.update([record('a', 0, kinds(0))]);
    rates.update([record('a', 10_000, kinds(10))]);
    const answer = rates.byKind();
    // k19 to k12 are the busiest (2 * i * 10 operations over 10 s); k00 to k11 are added up.
    expect(Object.keys(answer)).toEqual([OTHER_KINDS, 'k12', 'k13', 'k14', 'k15', 'k16', 'k17', 'k18', 'k19']);
    expect(Object.keys(answer)).toHaveLength(MAX_CHART_KINDS + 1);
    const otherOps = Array.from({ length: 12 }, (_, i) => (2 * i * 10) / 10).reduce((a, b) => a + b, 0);
    expect(answer[OTHER_KINDS]).toEqual({ hitRate: 0.5, opsPerSec: otherOps, latencyMs: 1 });
    expect(answer.k19).toEqual({ hitRate: 0.5, opsPerSec: 38, latencyMs: 1 });
  });

  it('holds a record of 20,000 kinds to the same few, and reads a kind named __proto__ as a kind', () => {
    const rates = new FleetRates();
    const kinds = (n: number) => {
      const byKind: Record<string, KindStats> = JSON.parse(`{"__proto__": ${JSON.stringify(kind(n * 50, 0))}}`);
      for (let i = 0; i < 20_000; i++) byKind[`kind${i}`] = kind(n, n);
      return byKind;
    };
    rates.update([record('a', 0, kinds(0))]);
    rates.update([record('a', 1_000, kinds(10))]);
    const answer = rates.byKind();
    expect(Object.keys(answer)).toHaveLength(MAX_CHART_KINDS + 1);
    expect(Object.getPrototypeOf(answer)).toBeNull();
    expect(Object.keys(answer)).toContain('__proto__');
    expect(answer['__proto__']).toEqual({ hitRate: 1, opsPerSec: 500, latencyMs: 1 });
    expect(({} as Record<string, unknown>).hitRate).toBeUndefined();
  });

  it('follows at most MAX_RATE_INSTANCES instances', () => {
    const rates = new FleetRates();
    const fleet = (at: number, n: number) => Array.from({ length: MAX_RATE_INSTANCES + 5 }, (_, i) => record(`i${i}`, at, { prediction: kind(n, 0) }));
    rates.update(fleet(0, 0));
    rates.update(fleet(1_000, 1));
    expect(rates.byKind().prediction!.opsPerSec).toBe(MAX_RATE_INSTANCES);
  });
});
