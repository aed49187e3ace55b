import type { CommandDefinition } from '../command-definition.js';
import { TTL_OPTION } from '../common-options.js';
import { CliError } from '../errors.js';
import { parseJsonObjectArgument } from '../json-argument.js';
import { openMlCache } from '../ml-access.js';
import { formatTtl } from '../output/format.js';

/** `cache-feat CUSTOMER JSON`: the guide's `cache_features`. */
export const cacheFeatCommand: CommandDefinition = {
  name: 'cache-feat',
  summary: "cache a customer's feature vector",
  description: "Caches a customer's features (a JSON object) for CACHE_FEATURE_TTL seconds (1800) unless --ttl says otherwise.",
  arguments: [
    { name: 'CUSTOMER', description: 'customer id, e.g. CUST001' },
    { name: 'JSON', description: "the features as a JSON object, in single quotes: '{\"age\": 35}'" },
  ],
  options: [TTL_OPTION],
  examples: [`finrisk-cache cache-feat CUST001 '{"age": 35, "income": 75000, "credit_score": 720, "employment_years": 8}'`],
  async run(ctx, [customer = '', json = ''], options) {
    const features = parseJsonObjectArgument(json, 'JSON (the features)');
    const ml = await openMlCache(ctx);
    const ttl = (options.ttl as number | undefined) ?? ml.cache.config.ttl.feature;
    const key = ml.keys.feature(customer).key;
    if (!(await ml.cacheFeatures(customer, features, { ttl }))) {
      throw new CliError('E_UNAVAILABLE', `could not cache the features of ${customer}: the backend did not store them`);
    }
    const store = ml.cache.store;
    ctx.out.result(
      { ok: true, customer, key, ttl, features: Object.keys(features).length, backend: store?.backend, location: store?.location },
      () => `Cached ${Object.keys(features).length} features for ${customer} (expires in ${formatTtl(ttl)})`,
    );
  },
};
