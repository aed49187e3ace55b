import { InvalidArgumentError } from 'commander';
import type { CommandDefinition } from '../command-definition.js';
import { ExitCode } from '../exit-codes.js';
import { openMlCache } from '../ml-access.js';
import { UnreadableEntries, unreadableJson, unreadableReason, unreadableState } from '../unreadable-entries.js';

/** Parses `--only age,income`: names separated by commas, none empty. */
function parseFeatureNames(raw: string): string[] {
  const names = raw.split(',').map((name) => name.trim());
  if (names.some((name) => name.length === 0)) throw new InvalidArgumentError('give feature names separated by commas, e.g. --only age,income');
  return names;
}

/** `get-feat CUSTOMER`: the guide's `get_cached_features`; exit 1 on a miss. */
export const getFeatCommand: CommandDefinition = {
  name: 'get-feat',
  summary: "print a customer's cached features (exit 1 when there are none)",
  description: "Prints the customer's cached features as JSON. Exits 1 when nothing is cached, and when the stored value is corrupt (the message says so and how to clear it).",
  arguments: [{ name: 'CUSTOMER', description: 'customer id, e.g. CUST001' }],
  options: [
    {
      flags: '--only <NAMES>',
      description: 'only these features, comma-separated (e.g. age,income): in the finrisk layout the others never leave Redis; exit 1 when none is cached',
      parse: parseFeatureNames,
    },
  ],
  examples: ['finrisk-cache get-feat CUST001', 'finrisk-cache get-feat CUST001 --only age,income', 'finrisk-cache get-feat CUST001 --json'],
  async run(ctx, [customer = ''], options) {
    const ml = await openMlCache(ctx);
    const key = ml.keys.feature(customer);
    const unreadable = new UnreadableEntries(ml.cache);
    const only = options.only as string[] | undefined;
    const entry = await ml.getCachedFeaturesEntry(customer, only === undefined ? {} : { only });
    const error = unreadable.of(key.key);
    if (!entry && error) {
      ctx.out.json({ found: false, corrupt: true, customer, key: key.key, features: null, error: unreadableJson(error) });
      ctx.out.error(
        `the cached features of ${customer} ${unreadableState(error, true)} (${unreadableReason(error)}); they read as a miss. ` +
          `Delete them with \`finrisk-cache clear-feat --customer ${customer}\`, or overwrite them with cache-feat`,
      );
      return ExitCode.NOT_FOUND;
    }
    if (!entry) {
      ctx.out.json({ found: false, customer, key: key.key, features: null });
      ctx.out.error(only === undefined ? `no cached features for ${customer} (never cached or expired)` : `none of ${only.join(', ')} is cached for ${customer} (never cached or expired)`);
      return ExitCode.NOT_FOUND;
    }
    const ttlSeconds = await ml.cache.ttl(key);
    ctx.out.result(
      {
        found: true,
        customer,
        key: key.key,
        features: entry.value,
        cachedAt: entry.cachedAt?.toISOString() ?? null,
        ...(entry.featureCachedAt ? { featureCachedAt: Object.fromEntries(Object.entries(entry.featureCachedAt).map(([name, at]) => [name, at.toISOString()])) } : {}),
        ttlSeconds,
      },
      () => JSON.stringify(entry.value, null, 2),
    );
  },
};
