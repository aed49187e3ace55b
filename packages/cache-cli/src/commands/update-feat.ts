import type { CommandDefinition } from '../command-definition.js';
import { TTL_OPTION } from '../common-options.js';
import { CliError } from '../errors.js';
import { jsonArgumentText } from '../input-source.js';
import { parseJsonObjectArgument } from '../json-argument.js';
import { openMlCache } from '../ml-access.js';
import { formatTtl } from '../output/format.js';

/** `update-feat CUSTOMER JSON`: a partial update of a customer's features (issue 26). */
export const updateFeatCommand: CommandDefinition = {
  name: 'update-feat',
  summary: "update some of a customer's features, keeping the others",
  description:
    "Updates the features named in JSON (an object) and leaves the customer's other features as they are, atomically: " +
    'updaters of other features, in any process, keep theirs. In the finrisk layout each updated feature lives --ttl seconds ' +
    "on its own (CACHE_FEATURE_TTL, 1800, unless --ttl says otherwise) and the customer's entry at least as long; in the " +
    "finrisk-python layout the update is merged into the Python service's JSON value on the server. JSON is read as by cache-feat.",
  arguments: [
    { name: 'CUSTOMER', description: 'customer id, e.g. CUST001' },
    { name: 'JSON', description: "the features to update, as a JSON object: '{\"txn_count_1h\": 4}'; @FILE reads it from FILE, - from standard input" },
  ],
  options: [TTL_OPTION],
  examples: [`finrisk-cache update-feat CUST001 '{"txn_count_1h": 4}'`, `finrisk-cache update-feat CUST001 '{"txn_count_1h": 4, "last_txn_amount": 120.5}' --ttl 300`],
  async run(ctx, [customer = '', json = ''], options) {
    const input = await jsonArgumentText(ctx, json, 'JSON (the features)', ctx.config().maxValueBytes);
    const features = parseJsonObjectArgument(input.text, input.source, input);
    const ml = await openMlCache(ctx);
    const ttl = (options.ttl as number | undefined) ?? ml.cache.config.ttl.feature;
    const key = ml.keys.feature(customer).key;
    if (!(await ml.updateFeatures(customer, features, { ttl }))) {
      throw new CliError('E_UNAVAILABLE', `could not update the features of ${customer}: the backend did not store them`);
    }
    const names = Object.keys(features);
    ctx.out.result(
      { ok: true, customer, key, ttl, updated: names },
      () => `Updated ${names.length} feature${names.length === 1 ? '' : 's'} of ${customer} (${names.join(', ')}; expire${names.length === 1 ? 's' : ''} in ${formatTtl(ttl)})`,
    );
  },
};
