import type { MlCache } from '@finrisk/cache-ml';
import { UnreadableEntries, unreadableJson } from './unreadable-entries.js';

/** One cached entry of a customer, as `inspect` and the dashboard show it. */
export interface CustomerEntry {
  kind: 'prediction' | 'feature';
  /** The model type, for predictions. */
  model: string | null;
  key: string;
  /** Seconds left; -1 when it never expires. */
  ttlSeconds: number | null;
  cachedAt: string | null;
  /**
   * fresh; stale (kept for the grace period); invalidated (a newer model generation: reads miss);
   * corrupt (stored but unreadable: reads miss; `error` says why).
   */
  state: 'fresh' | 'stale' | 'invalidated' | 'corrupt';
  /** Why a corrupt entry cannot be read. */
  error?: { code: string; message: string };
  /** Features: when each feature was written (ISO), where the layout keeps it (`finrisk`, features written by this version). */
  featureCachedAt?: Record<string, string>;
}

/** A customer's entry with the value a read returns (null when it would miss: invalidated or corrupt). */
export interface CustomerEntryWithValue {
  entry: CustomerEntry;
  value: unknown;
}

/** What {@link visitCustomer} may read. */
export interface CustomerVisitOptions {
  /** Most prediction entries read (one per model); the others are counted, not read. @default no limit */
  maxPredictions?: number;
}

/**
 * The model types a customer has prediction keys for (SCAN, never KEYS), sorted: at most `max`
 * of them (the first found), and how many more there were.
 */
async function predictionModels(ml: MlCache, customer: string, max: number): Promise<{ found: { model: string; key: string }[]; more: number }> {
  const found: { model: string; key: string }[] = [];
  let more = 0;
  const add = (model: string, key: string) => {
    if (found.length < max) found.push({ model, key });
    else more++;
  };
  for await (const batch of ml.cache.scan(ml.keys.predictionPrefix(ml.keys.isPython ? undefined : customer))) {
    for (const key of batch) {
      if (ml.keys.isPython) {
        if (ml.keys.pythonCustomerOf(key) !== customer) continue;
        add(key.slice('prediction:'.length, key.length - customer.length - 1), key);
      } else {
        const parts = ml.cache.keys.parse('prediction', key);
        if (parts && parts.length === 2 && parts[0] === customer) add(parts[1]!, key);
      }
    }
  }
  return { found: found.sort((a, b) => a.model.localeCompare(b.model)), more };
}

/**
 * Every prediction (one per model) and the features cached for a customer, each with its key,
 * time to live, when it was cached, its state (corrupt entries say why) and the value a read
 * would return. Validates the id (E_INVALID_KEY) before any scan. Used by `inspect`.
 */
export async function lookupCustomer(ml: MlCache, customer: string): Promise<CustomerEntryWithValue[]> {
  const found: CustomerEntryWithValue[] = [];
  await visitCustomer(ml, customer, (entry) => void found.push(entry));
  return found;
}

/**
 * What {@link lookupCustomer} finds, handed to `visit` one entry at a time (predictions by model,
 * then the features) and not kept: the dashboard turns each value into the text it sends and lets
 * it go before the next is read. Resolves to the number of predictions past `maxPredictions`,
 * counted and not read.
 */
export async function visitCustomer(
  ml: MlCache,
  customer: string,
  visit: (found: CustomerEntryWithValue) => void,
  options: CustomerVisitOptions = {},
): Promise<{ morePredictions: number }> {
  const featureKey = ml.keys.feature(customer); // validates the id before any scan
  const unreadable = new UnreadableEntries(ml.cache);
  const corrupt = (key: string) => {
    const error = unreadable.of(key);
    return error ? { state: 'corrupt' as const, error: unreadableJson(error) } : undefined;
  };
  try {
    const predictions = await predictionModels(ml, customer, options.maxPredictions ?? Number.POSITIVE_INFINITY);
    for (const { model, key } of predictions.found) {
      const entry = await ml.getCachedPredictionEntry(customer, model);
      visit({
        entry: {
          kind: 'prediction', model, key,
          ttlSeconds: await ml.cache.ttl({ kind: 'prediction', key }),
          cachedAt: entry?.cachedAt?.toISOString() ?? null,
          state: entry === null ? 'invalidated' : entry.isStale ? 'stale' : 'fresh',
          ...(entry === null ? corrupt(key) : undefined),
        },
        value: entry?.value ?? null,
      });
    }
    const ttl = await ml.cache.ttl(featureKey);
    if (ttl !== null && ttl !== -2) {
      const entry = await ml.getCachedFeaturesEntry(customer);
      visit({
        entry: {
          kind: 'feature', model: null, key: featureKey.key, ttlSeconds: ttl,
          cachedAt: entry?.cachedAt?.toISOString() ?? null, state: entry?.isStale ? 'stale' : 'fresh',
          ...(entry?.featureCachedAt ? { featureCachedAt: Object.fromEntries(Object.entries(entry.featureCachedAt).map(([name, at]) => [name, at.toISOString()])) } : {}),
          ...(entry === null ? corrupt(featureKey.key) : undefined),
        },
        value: entry?.value ?? null,
      });
    }
    return { morePredictions: predictions.more };
  } finally {
    // The dashboard looks customers up for as long as it runs: no listener may outlive its lookup.
    unreadable.stop();
  }
}
