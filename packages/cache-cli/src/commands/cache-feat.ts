import type { CommandDefinition } from '../command-definition.js';
import { TTL_OPTION } from '../common-options.js';
import { CliError } from '../errors.js';
import { jsonArgumentText } from '../input-source.js';
import { parseJsonObjectArgument } from '../json-argument.js';
import { openMlCache } from '../ml-access.js';
import { formatTtl } from '../output/format.js';

/** `cache-feat CUSTOMER JSON`: the guide's `cache_features`. */
export const cacheFeatCommand: CommandDefinition = {
  name: 'cache-feat',
  summary: "cache a customer's feature vector",
  description:
    "Caches a customer's features (a JSON object) for CACHE_FEATURE_TTL seconds (1800) unless --ttl says otherwise. " +
    'JSON is the object itself, @FILE to read it from a file, or - to read it from standard input (one command-line argument ' +
    'holds at most 128 KiB); at most CACHE_MAX_VALUE_BYTES (128 MiB) are read. Numbers too large for a 64-bit float (1e400) are refused.',
  arguments: [
    { name: 'CUSTOMER', description: 'customer id, e.g. CUST001' },
    { name: 'JSON', description: "the features as a JSON object, in single quotes: '{\"age\": 35}'; @FILE reads it from FILE, - from standard input" },
  ],
  options: [TTL_OPTION],
  examples: [
    `finrisk-cache cache-feat CUST001 '{"age": 35, "income": 75000, "credit_score": 720, "employment_years": 8}'`,
    'finrisk-cache cache-feat CUST001 @features.json',
    'jq .features customer.json | finrisk-cache cache-feat CUST001 -',
  ],
  async run(ctx, [customer = '', json = ''], options) {
    const input = await jsonArgumentText(ctx, json, 'JSON (the features)', ctx.config().maxValueBytes);
    const features = parseJsonObjectArgument(input.text, input.source, input);
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
