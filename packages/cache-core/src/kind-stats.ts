import type { CacheKey } from './keys.js';
import { emptyKindStats, hitRate, type CacheStats, type KindStats } from './stats.js';

/**
 * This process's counters, per kind of entry. Reads of the SDK's own bookkeeping keys (a model's
 * generation token, a read-through lock: {@link CacheKey.internal}) are not the application's hits
 * or misses: a prediction read fetches the token with the prediction, and counting the token would
 * inflate the hit rate.
 */
export class KindStatsRegistry {
  readonly #byKind = new Map<string, KindStats>();

  /** The live counters of a kind (created at zero). */
  of(kind: string): KindStats {
    let stats = this.#byKind.get(kind);
    if (!stats) this.#byKind.set(kind, (stats = emptyKindStats()));
    return stats;
  }

  /** Counts a read's outcome under its key's kind, unless the key is bookkeeping. */
  read(ref: CacheKey, hit: boolean): void {
    if (ref.internal) return;
    const stats = this.of(ref.kind);
    if (hit) stats.hits++;
    else stats.misses++;
  }

  /** Counts a write's outcome under its kind: stored, or failed (a backend failure, or never sent after one). */
  wrote(kind: string, stored: boolean): void {
    const stats = this.of(kind);
    if (stored) stats.writes++;
    else stats.writeFailures++;
  }

  /** A copy of every kind's counters, with the totals and hit rate over application reads. */
  snapshot(): CacheStats['process'] {
    let hits = 0;
    let misses = 0;
    const byKind: Record<string, KindStats> = {};
    for (const [kind, s] of this.#byKind) {
      byKind[kind] = { ...s };
      hits += s.hits;
      misses += s.misses;
    }
    return { hits, misses, hitRate: hitRate(hits, misses), byKind };
  }
}

/** The kind an operation on several keys is filed under: its first application key's kind. */
export function operationKind(refs: readonly CacheKey[]): string {
  for (const ref of refs) if (!ref.internal) return ref.kind;
  return refs[0]!.kind;
}
