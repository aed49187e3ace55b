import type { CommandDefinition } from '../command-definition.js';
import { DRY_RUN_OPTION } from '../common-options.js';
import { openMlCache } from '../ml-access.js';
import { reportClear } from './clear-output.js';

/** `clear-feat [--customer ID]`: `clear_feature_cache`. */
export const clearFeatCommand: CommandDefinition = {
  name: 'clear-feat',
  summary: "delete cached features: every customer's, or one customer's with --customer",
  description: "Deletes the cached features of one customer with --customer, or of every customer. Uses SCAN and UNLINK, never KEYS.",
  options: [{ flags: '--customer <ID>', description: 'only this customer, e.g. CUST001' }, DRY_RUN_OPTION],
  examples: ['finrisk-cache clear-feat', 'finrisk-cache clear-feat --customer CUST001 --dry-run'],
  async run(ctx, _args, options) {
    const customer = options.customer as string | undefined;
    const ml = await openMlCache(ctx);
    const dryRun = options.dryRun === true;
    const result = await ml.clearFeatureCache(customer, { dryRun });
    reportClear(ctx, result, customer === undefined ? 'features of every customer' : `features of ${customer}`, dryRun);
  },
};
