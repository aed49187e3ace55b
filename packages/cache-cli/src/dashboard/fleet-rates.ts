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

/** Instances whose rates are followed; records past these, in the reader's order, are left out. */
export const MAX_RATE_INSTANCES = 1000;
/** Kinds followed per instance: those with the most operations. */
export const MAX_RATE_KINDS = 64;
/** Kinds in each sample's rates (one line each on the charts); the others are added up under {@link OTHER_KINDS}. */
export const MAX_CHART_KINDS = 8;
/** The name under which the kinds past a cap are added up. Parentheses: no SDK kind has them. */
export const OTHER_KINDS = '(other kinds)';

interface Counters {
  hits: number;
  misses: number;
  operations: number;
  latencyMs: number;
}

/** What is kept of an instance's last record: the counters of its busiest kinds only. */
interface Kept {
  publishedAt: number;
  byKind: Map<string, Counters>;
  /** True when the record had more kinds than were kept. */
  trimmed: boolean;
}

const nonNegative = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);

/** The counters of a record's `MAX_RATE_KINDS` busiest kinds (those with the most operations, then by name). */
function keep(record: PublishedStats): Kept {
  const byKind = record.process.byKind as unknown as Record<string, Record<string, unknown> | undefined>;
  const all: [string, Counters][] = [];
  for (const kind of Object.keys(byKind)) {
    const k = byKind[kind];
    if (typeof k !== 'object' || k === null) continue;
    all.push([kind, { hits: nonNegative(k.hits), misses: nonNegative(k.misses), operations: nonNegative(k.operations), latencyMs: nonNegative(k.totalLatencyMs) }]);
  }
  const trimmed = all.length > MAX_RATE_KINDS;
  if (trimmed) all.sort(([a, x], [b, y]) => y.operations - x.operations || (a < b ? -1 : a > b ? 1 : 0));
  return { publishedAt: record.publishedAt, byKind: new Map(all.slice(0, MAX_RATE_KINDS)), trimmed };
}

/**
 * Turns the counters each process publishes (totals since it started) into recent rates: for each
 * instance, the difference between its last two publications over the time between them. Rates
 * are per instance and then added up, so that an instance that starts (its totals appear) or
 * stops (they disappear) is not read as a burst or a negative rate.
 *
 * What it keeps is bounded whatever the records say: {@link MAX_RATE_INSTANCES} instances, each
 * with its {@link MAX_RATE_KINDS} busiest kinds; and {@link FleetRates.byKind} answers at most
 * {@link MAX_CHART_KINDS} kinds, the rest added up (each sample of the history holds one answer).
 */
export class FleetRates {
  readonly #last = new Map<string, Kept>();
  readonly #deltas = new Map<string, { seconds: number; byKind: Map<string, Counters> }>();

  /** Takes the records of one read of the fleet (every instance that published recently). */
  update(records: readonly PublishedStats[]): void {
    const seen = new Set<string>();
    for (const record of records) {
      if (seen.size >= MAX_RATE_INSTANCES) break;
      if (typeof record.instance !== 'string' || seen.has(record.instance)) continue;
      seen.add(record.instance);
      const previous = this.#last.get(record.instance);
      if (previous && !(record.publishedAt > previous.publishedAt)) continue;
      const now = keep(record);
      this.#last.set(record.instance, now);
      if (!previous) continue;
      const seconds = (now.publishedAt - previous.publishedAt) / 1000;
      const byKind = new Map<string, Counters>();
      for (const [kind, counters] of now.byKind) {
        const before = previous.byKind.get(kind);
        // A kind the previous record had but that was not kept then has no known start: no rate yet.
        if (!before && previous.trimmed) continue;
        const diff = (field: keyof Counters) => Math.max(0, counters[field] - (before?.[field] ?? 0));
        byKind.set(kind, { hits: diff('hits'), misses: diff('misses'), operations: diff('operations'), latencyMs: diff('latencyMs') });
      }
      this.#deltas.set(record.instance, { seconds, byKind });
    }
    for (const instance of [...this.#last.keys()]) {
      if (seen.has(instance)) continue;
      this.#last.delete(instance);
      this.#deltas.delete(instance);
    }
  }

  /**
   * The recent rates of the {@link MAX_CHART_KINDS} busiest kinds (most operations per second),
   * added up over the instances that published twice or more, and of the others together under
   * {@link OTHER_KINDS}; sorted by kind. A null-prototype object: kinds are names from Redis.
   */
  byKind(): Record<string, KindRate> {
    const totals = new Map<string, Counters & { opsPerSec: number }>();
    const add = (kind: string, d: Counters & { opsPerSec: number }) => {
      let total = totals.get(kind);
      if (!total) totals.set(kind, (total = { hits: 0, misses: 0, operations: 0, latencyMs: 0, opsPerSec: 0 }));
      total.hits += d.hits;
      total.misses += d.misses;
      total.operations += d.operations;
      total.latencyMs += d.latencyMs;
      total.opsPerSec += d.opsPerSec;
    };
    for (const { seconds, byKind } of this.#deltas.values()) {
      for (const [kind, d] of byKind) add(kind, { ...d, opsPerSec: seconds > 0 ? d.operations / seconds : 0 });
    }
    let shown = [...totals];
    if (shown.length > MAX_CHART_KINDS) {
      shown.sort(([a, x], [b, y]) => y.opsPerSec - x.opsPerSec || y.operations - x.operations || (a < b ? -1 : a > b ? 1 : 0));
      const rest = shown.slice(MAX_CHART_KINDS);
      shown = shown.slice(0, MAX_CHART_KINDS);
      const other = { hits: 0, misses: 0, operations: 0, latencyMs: 0, opsPerSec: 0 };
      for (const [, t] of rest) {
        other.hits += t.hits;
        other.misses += t.misses;
        other.operations += t.operations;
        other.latencyMs += t.latencyMs;
        other.opsPerSec += t.opsPerSec;
      }
      shown.push([OTHER_KINDS, other]);
    }
    const result = Object.create(null) as Record<string, KindRate>;
    for (const [kind, t] of shown.sort(([a], [b]) => a.localeCompare(b))) {
      result[kind] = {
        hitRate: t.hits + t.misses > 0 ? t.hits / (t.hits + t.misses) : null,
        opsPerSec: t.opsPerSec,
        latencyMs: t.operations > 0 ? t.latencyMs / t.operations : null,
      };
    }
    return result;
  }
}
