import type { CommandDefinition } from '../command-definition.js';
import { DRY_RUN_OPTION } from '../common-options.js';
import { openMlCache } from '../ml-access.js';
import { reportClear } from './clear-output.js';

/** `clear-pred [--customer ID]`: the guide's `clear_prediction_cache`. */
export const clearPredCommand: CommandDefinition = {
  name: 'clear-pred',
  summary: "delete cached predictions: every customer's, or one customer's with --customer",
  description: "Deletes cached predictions (of every model) of one customer with --customer, or of every customer. Uses SCAN and UNLINK, never KEYS.",
  options: [{ flags: '--customer <ID>', description: 'only this customer, e.g. CUST001' }, DRY_RUN_OPTION],
  examples: ['finrisk-cache clear-pred', 'finrisk-cache clear-pred --customer CUST001', 'finrisk-cache clear-pred --dry-run'],
  async run(ctx, _args, options) {
    const customer = options.customer as string | undefined;
    const ml = await openMlCache(ctx);
    const dryRun = options.dryRun === true;
    const result = await ml.clearPredictionCache(customer, { dryRun });
    reportClear(ctx, result, customer === undefined ? 'predictions of every customer' : `predictions of ${customer}`, dryRun);
  },
};
