import { setTimeout as sleep } from 'node:timers/promises';
import type { Cache } from '@finrisk/cache-core';

/** Keys per kind, counted by the dashboard. */
export interface KeyCensus {
  /** When the count finished, ms since the epoch. */
  at: number;
  /** How long it took, in ms (pauses included). */
  durationMs: number;
  /** Keys of each kind (`prediction`, `feature`, `model`, `dataframe`, `stats`, ...), sorted by kind: at most {@link MAX_CENSUS_KINDS}, and {@link OTHER_KEY_KINDS}. */
  kinds: { kind: string; keys: number }[];
  /** Models with cached artifacts (at most {@link MAX_MODELS}), sorted. */
  models: string[];
}

/** Keys asked for per SCAN call. */
export const CENSUS_SCAN_COUNT = 1000;
/** Pause between two SCAN calls, in ms: at most ~50 calls a second, so a big keyspace is walked slowly rather than hard. */
export const CENSUS_PAUSE_MS = 20;
/** Most model names listed. */
export const MAX_MODELS = 500;
/** Most kinds counted apart: keys of any further kind are counted together under {@link OTHER_KEY_KINDS} (a kind is a key's first part, which anyone who writes keys chooses). */
export const MAX_CENSUS_KINDS = 100;
/** The kind under which keys past {@link MAX_CENSUS_KINDS} kinds are counted. */
export const OTHER_KEY_KINDS = '(other kinds)';

/**
 * Counts the keys of each kind under the cache's prefix (and the Python layout's own prefixes
 * when that layout is in use) with SCAN, pausing between calls. Unlike `stats --keys`
 * (key-usage.ts) it sends no MEMORY USAGE per key: the dashboard repeats this while it runs, and
 * one extra command per key would make each count as costly as the keyspace is large.
 */
export async function takeKeyCensus(cache: Cache, signal: AbortSignal, pauseMs = CENSUS_PAUSE_MS): Promise<KeyCensus> {
  const started = Date.now();
  const counts = new Map<string, number>();
  const models = new Set<string>();
  const prefixes: { prefix: string; kindOf: (key: string) => string }[] = [
    { prefix: `${cache.config.keyPrefix}:`, kindOf: (key) => key.slice(cache.config.keyPrefix.length + 1).split(':')[0] || '(none)' },
  ];
  if (cache.config.keyLayout === 'finrisk-python') {
    prefixes.push({ prefix: 'prediction:', kindOf: () => 'prediction' }, { prefix: 'features:', kindOf: () => 'feature' });
  }
  for (const { prefix, kindOf } of prefixes) {
    for await (const keys of cache.scan({ kind: 'stats', prefix }, CENSUS_SCAN_COUNT)) {
      for (const key of keys) {
        let kind = kindOf(key);
        if (!counts.has(kind) && counts.size >= MAX_CENSUS_KINDS) kind = OTHER_KEY_KINDS;
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        if (kind === 'model' && models.size < MAX_MODELS) {
          const name = cache.keys.parse('model', key)?.[0];
          if (name !== undefined) models.add(name);
        }
      }
      signal.throwIfAborted();
      await sleep(pauseMs, undefined, { signal });
    }
  }
  return {
    at: Date.now(),
    durationMs: Date.now() - started,
    kinds: [...counts].map(([kind, keys]) => ({ kind, keys })).sort((a, b) => a.kind.localeCompare(b.kind)),
    models: [...models].sort(),
  };
}
