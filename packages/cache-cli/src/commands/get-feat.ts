import type { CommandDefinition } from '../command-definition.js';
import { ExitCode } from '../exit-codes.js';
import { openMlCache } from '../ml-access.js';

/** `get-feat CUSTOMER`: the guide's `get_cached_features`; exit 1 on a miss. */
export const getFeatCommand: CommandDefinition = {
  name: 'get-feat',
  summary: "print a customer's cached features (exit 1 when there are none)",
  description: "Prints the customer's cached features as JSON. Exits 1 when nothing is cached.",
  arguments: [{ name: 'CUSTOMER', description: 'customer id, e.g. CUST001' }],
  examples: ['finrisk-cache get-feat CUST001', 'finrisk-cache get-feat CUST001 --json'],
  async run(ctx, [customer = '']) {
    const ml = await openMlCache(ctx);
    const key = ml.keys.feature(customer);
    const entry = await ml.getCachedFeaturesEntry(customer);
    if (!entry) {
      ctx.out.json({ found: false, customer, key: key.key, features: null });
      ctx.out.error(`no cached features for ${customer} (never cached or expired)`);
      return ExitCode.NOT_FOUND;
    }
    const ttlSeconds = await ml.cache.ttl(key);
    ctx.out.result(
      { found: true, customer, key: key.key, features: entry.value, cachedAt: entry.cachedAt?.toISOString() ?? null, ttlSeconds },
      () => JSON.stringify(entry.value, null, 2),
    );
  },
};
