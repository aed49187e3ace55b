import type { MlCache } from '@finrisk/cache-ml';
import type { CommandDefinition } from '../command-definition.js';
import { ExitCode } from '../exit-codes.js';
import { openMlCache } from '../ml-access.js';
import { UnreadableEntries, unreadableJson } from '../unreadable-entries.js';
import { formatTtl } from '../output/format.js';
import { formatTable } from '../output/table.js';

/** One cached entry of a customer, as `inspect` shows it. */
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
}

/** The model types a customer has prediction keys for (SCAN, never KEYS). */
async function predictionModels(ml: MlCache, customer: string): Promise<{ model: string; key: string }[]> {
  const found: { model: string; key: string }[] = [];
  for await (const batch of ml.cache.scan(ml.keys.predictionPrefix(ml.keys.isPython ? undefined : customer))) {
    for (const key of batch) {
      if (ml.keys.isPython) {
        if (ml.keys.pythonCustomerOf(key) !== customer) continue;
        found.push({ model: key.slice('prediction:'.length, key.length - customer.length - 1), key });
      } else {
        const parts = ml.cache.keys.parse('prediction', key);
        if (parts && parts.length === 2 && parts[0] === customer) found.push({ model: parts[1]!, key });
      }
    }
  }
  return found.sort((a, b) => a.model.localeCompare(b.model));
}

/** `inspect CUSTOMER`: every entry cached for a customer, with its time to live. */
export const inspectCommand: CommandDefinition = {
  name: 'inspect',
  summary: "list a customer's cached predictions and features with their TTLs (exit 1 when there are none)",
  description:
    "Lists every prediction (one per model) and the features cached for a customer: key, time to live left, when it was cached, " +
    'and whether a read would use it (invalidated predictions are still stored but read as misses; corrupt entries are stored ' +
    'but cannot be read, and the command says how to clear them). Exits 1 when nothing is cached.',
  arguments: [{ name: 'CUSTOMER', description: 'customer id, e.g. CUST001' }],
  examples: ['finrisk-cache inspect CUST001', 'finrisk-cache inspect CUST001 --json'],
  async run(ctx, [customer = '']) {
    const ml = await openMlCache(ctx);
    ml.keys.feature(customer); // validates the id before any scan
    const entries: CustomerEntry[] = [];
    const unreadable = new UnreadableEntries(ml.cache);
    const corrupt = (key: string) => {
      const error = unreadable.of(key);
      return error ? { state: 'corrupt' as const, error: unreadableJson(error) } : undefined;
    };
    for (const { model, key } of await predictionModels(ml, customer)) {
      const entry = await ml.getCachedPredictionEntry(customer, model);
      entries.push({
        kind: 'prediction', model, key,
        ttlSeconds: await ml.cache.ttl({ kind: 'prediction', key }),
        cachedAt: entry?.cachedAt?.toISOString() ?? null,
        state: entry === null ? 'invalidated' : entry.isStale ? 'stale' : 'fresh',
        ...(entry === null ? corrupt(key) : undefined),
      });
    }
    const featureKey = ml.keys.feature(customer);
    const ttl = await ml.cache.ttl(featureKey);
    if (ttl !== null && ttl !== -2) {
      const entry = await ml.getCachedFeaturesEntry(customer);
      entries.push({
        kind: 'feature', model: null, key: featureKey.key, ttlSeconds: ttl,
        cachedAt: entry?.cachedAt?.toISOString() ?? null, state: entry?.isStale ? 'stale' : 'fresh',
        ...(entry === null ? corrupt(featureKey.key) : undefined),
      });
    }
    ctx.out.json({ customer, entries });
    if (entries.length === 0) {
      ctx.out.error(`nothing is cached for customer ${customer}`);
      return ExitCode.NOT_FOUND;
    }
    ctx.out.line(
      formatTable(
        entries.map((e) => [e.kind, e.model ?? '', formatTtl(e.ttlSeconds), e.cachedAt ?? '', e.state, e.key]),
        { header: ['Kind', 'Model', 'Expires in', 'Cached at', 'State', 'Key'] },
      ),
    );
    for (const e of entries) {
      if (e.state !== 'corrupt') continue;
      const clear = e.kind === 'prediction' ? 'clear-pred' : 'clear-feat';
      ctx.out.warn(`${e.key} is corrupt (${e.error!.message}); it reads as a miss. Delete it with \`finrisk-cache ${clear} --customer ${customer}\``);
    }
  },
};
