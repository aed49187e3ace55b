import type { CommandDefinition } from '../command-definition.js';
import { DRY_RUN_OPTION } from '../common-options.js';
import { openMlCache } from '../ml-access.js';
import { reportClear } from './clear-output.js';

/** `clear-model [--model NAME]`: the guide's `clear_model_cache`. */
export const clearModelCommand: CommandDefinition = {
  name: 'clear-model',
  summary: "delete cached model artifacts: every model's, or one model's with --model",
  description: "Deletes cached model artifacts (every version) of one model with --model, or of every model. Uses SCAN and UNLINK, never KEYS.",
  options: [{ flags: '--model <NAME>', description: 'only this model, e.g. credit_risk' }, DRY_RUN_OPTION],
  examples: ['finrisk-cache clear-model', 'finrisk-cache clear-model --model credit_risk', 'finrisk-cache clear-model --dry-run'],
  async run(ctx, _args, options) {
    const model = options.model as string | undefined;
    const ml = await openMlCache(ctx);
    const dryRun = options.dryRun === true;
    const result = await ml.clearModelCache(model, { dryRun });
    reportClear(ctx, result, model === undefined ? 'artifacts of every model' : `artifacts of model ${model}`, dryRun);
  },
};
