import type { PublishedStats } from '@finrisk/cache-core';

/** The fleet's recent figures for one kind, over every service. */
export interface KindRate {
  /** Hits / reads over each instance's last publication interval, 0..1; null when there were no reads. */
  hitRate: number | null;
  /** Timed operations per second. */
  opsPerSec: number;
  /** Average time of an operation over the interval, in ms; null when there were none. */
  latencyMs: number | null;
}

interface Delta {
  hits: number;
  misses: number;
  operations: number;
  latencyMs: number;
}

const nonNegative = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);

/**
 * Turns the counters each process publishes (totals since it started) into recent rates: for each
 * instance, the difference between its last two publications over the time between them. Rates
 * are per instance and then added up, so that an instance that starts (its totals appear) or
 * stops (they disappear) is not read as a burst or a negative rate.
 */
export class FleetRates {
  readonly #last = new Map<string, PublishedStats>();
  readonly #deltas = new Map<string, { seconds: number; byKind: Map<string, Delta> }>();

  /** Takes the records of one read of the fleet (every instance that published recently). */
  update(records: readonly PublishedStats[]): void {
    const seen = new Set<string>();
    for (const record of records) {
      seen.add(record.instance);
      const previous = this.#last.get(record.instance);
      if (previous && record.publishedAt <= previous.publishedAt) continue;
      this.#last.set(record.instance, record);
      if (!previous) continue;
      const seconds = (record.publishedAt - previous.publishedAt) / 1000;
      const byKind = new Map<string, Delta>();
      for (const [kind, now] of Object.entries(record.process.byKind)) {
        const before = previous.process.byKind[kind];
        const diff = (field: 'hits' | 'misses' | 'operations' | 'totalLatencyMs') => Math.max(0, nonNegative(now[field]) - nonNegative(before?.[field]));
        byKind.set(kind, { hits: diff('hits'), misses: diff('misses'), operations: diff('operations'), latencyMs: diff('totalLatencyMs') });
      }
      this.#deltas.set(record.instance, { seconds, byKind });
    }
    for (const instance of [...this.#last.keys()]) {
      if (seen.has(instance)) continue;
      this.#last.delete(instance);
      this.#deltas.delete(instance);
    }
  }

  /** Every kind's recent rates, added up over the instances that published twice or more. */
  byKind(): Record<string, KindRate> {
    const totals = new Map<string, Delta & { opsPerSec: number }>();
    for (const { seconds, byKind } of this.#deltas.values()) {
      for (const [kind, d] of byKind) {
        let total = totals.get(kind);
        if (!total) totals.set(kind, (total = { hits: 0, misses: 0, operations: 0, latencyMs: 0, opsPerSec: 0 }));
        total.hits += d.hits;
        total.misses += d.misses;
        total.operations += d.operations;
        total.latencyMs += d.latencyMs;
        if (seconds > 0) total.opsPerSec += d.operations / seconds;
      }
    }
    const result: Record<string, KindRate> = {};
    for (const [kind, t] of [...totals].sort(([a], [b]) => a.localeCompare(b))) {
      result[kind] = {
        hitRate: t.hits + t.misses > 0 ? t.hits / (t.hits + t.misses) : null,
        opsPerSec: t.opsPerSec,
        latencyMs: t.operations > 0 ? t.latencyMs / t.operations : null,
      };
    }
    return result;
  }
}
