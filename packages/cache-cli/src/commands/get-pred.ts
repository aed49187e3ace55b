import type { CommandDefinition } from '../command-definition.js';
import { ExitCode } from '../exit-codes.js';
import { openMlCache } from '../ml-access.js';
import { UnreadableEntries, unreadableJson, unreadableReason, unreadableState } from '../unreadable-entries.js';

/** `get-pred CUSTOMER MODEL`: the guide's `get_cached_prediction`; exit 1 on a miss. */
export const getPredCommand: CommandDefinition = {
  name: 'get-pred',
  summary: 'print the cached prediction of a model for a customer (exit 1 when there is none)',
  description:
    'Prints the cached prediction as JSON. Exits 1 when nothing is cached (never cached, expired or invalidated), and when the ' +
    'stored value is corrupt (the message says so and how to clear it).',
  arguments: [
    { name: 'CUSTOMER', description: 'customer id, e.g. CUST001' },
    { name: 'MODEL', description: 'model type, e.g. credit or fraud' },
  ],
  examples: ['finrisk-cache get-pred CUST001 credit', 'finrisk-cache get-pred CUST001 fraud --json'],
  async run(ctx, [customer = '', model = '']) {
    const ml = await openMlCache(ctx);
    const key = ml.keys.prediction(customer, model);
    const unreadable = new UnreadableEntries(ml.cache);
    const entry = await ml.getCachedPredictionEntry(customer, model);
    const error = unreadable.of(key.key);
    if (!entry && error) {
      ctx.out.json({ found: false, corrupt: true, customer, model, key: key.key, prediction: null, error: unreadableJson(error) });
      ctx.out.error(
        `the cached ${model} prediction for ${customer} ${unreadableState(error)} (${unreadableReason(error)}); it reads as a miss. ` +
          `Delete it with \`finrisk-cache clear-pred --customer ${customer}\`, or overwrite it with cache-pred`,
      );
      return ExitCode.NOT_FOUND;
    }
    if (!entry) {
      ctx.out.json({ found: false, customer, model, key: key.key, prediction: null });
      ctx.out.error(`no cached ${model} prediction for ${customer} (never cached, expired or invalidated)`);
      return ExitCode.NOT_FOUND;
    }
    const ttlSeconds = await ml.cache.ttl(key);
    ctx.out.result(
      {
        found: true, customer, model, key: key.key, prediction: entry.value,
        cachedAt: entry.cachedAt?.toISOString() ?? null, isStale: entry.isStale, modelVersion: entry.modelVersion ?? null, ttlSeconds,
      },
      () => JSON.stringify(entry.value, null, 2),
    );
  },
};
