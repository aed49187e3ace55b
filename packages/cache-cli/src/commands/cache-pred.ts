import type { CommandDefinition } from '../command-definition.js';
import { TTL_OPTION } from '../common-options.js';
import { CliError } from '../errors.js';
import { jsonArgumentText } from '../input-source.js';
import { parseJsonObjectArgument } from '../json-argument.js';
import { openMlCache } from '../ml-access.js';
import { formatTtl } from '../output/format.js';

/** `cache-pred CUSTOMER MODEL JSON`: the guide's `cache_model_prediction`. */
export const cachePredCommand: CommandDefinition = {
  name: 'cache-pred',
  summary: "cache a model's prediction for a customer",
  description:
    "Caches a model's prediction (a JSON object) for a customer, for CACHE_PREDICTION_TTL seconds (3600) unless --ttl says otherwise. " +
    'JSON is the object itself, @FILE to read it from a file, or - to read it from standard input (one command-line argument ' +
    'holds at most 128 KiB); at most CACHE_MAX_VALUE_BYTES (128 MiB) are read. Numbers too large for a 64-bit float (1e400) are refused.',
  arguments: [
    { name: 'CUSTOMER', description: 'customer id, e.g. CUST001' },
    { name: 'MODEL', description: 'model type, e.g. credit or fraud' },
    { name: 'JSON', description: "the prediction as a JSON object, in single quotes: '{\"risk_score\": 0.75}'; @FILE reads it from FILE, - from standard input" },
  ],
  options: [TTL_OPTION],
  examples: [
    `finrisk-cache cache-pred CUST001 credit '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}'`,
    `finrisk-cache cache-pred CUST001 fraud '{"fraud_probability": 0.15, "risk_level": "low", "confidence": 0.88}'`,
    'finrisk-cache cache-pred CUST001 credit @prediction.json',
    'python score.py | finrisk-cache cache-pred CUST001 credit -',
  ],
  async run(ctx, [customer = '', model = '', json = ''], options) {
    const input = await jsonArgumentText(ctx, json, 'JSON (the prediction)', ctx.config().maxValueBytes);
    const prediction = parseJsonObjectArgument(input.text, input.source, input);
    const ml = await openMlCache(ctx);
    const ttl = (options.ttl as number | undefined) ?? ml.cache.config.ttl.prediction;
    const key = ml.keys.prediction(customer, model).key;
    if (!(await ml.cacheModelPrediction(customer, model, prediction, { ttl }))) {
      throw new CliError('E_UNAVAILABLE', `could not cache the ${model} prediction for ${customer}: the backend did not store it`);
    }
    const store = ml.cache.store;
    ctx.out.result(
      { ok: true, customer, model, key, ttl, backend: store?.backend, location: store?.location },
      () => `Cached ${model} prediction for ${customer} (expires in ${formatTtl(ttl)})`,
    );
  },
};
