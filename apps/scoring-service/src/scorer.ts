import type { MlCache } from '@finrisk/cache-ml';
import { ModelVersions } from './model-versions.js';
import { DEFAULT_COSTS, fetchFeatures, predict, type CustomerFeatures, type ModelName, type RiskPrediction, type ToyModelCosts } from './toy-model.js';

/** One scoring answer, as the API returns it. */
export interface ScoreResult {
  customerId: string;
  model: ModelName;
  modelVersion: string;
  riskScore: number;
  decision: RiskPrediction['decision'];
  confidence: number;
  /** True when this request ran the model; false when it got the prediction from the cache, or from a concurrent request for the same customer and model (single flight). */
  computed: boolean;
}

/** Options of {@link createScorer}. */
export interface ScorerOptions {
  /** Read features and predictions through this cache; `null` scores every request from scratch. */
  ml: MlCache<RiskPrediction, CustomerFeatures> | null;
  versions?: ModelVersions;
  costs?: ToyModelCosts;
}

/** Scores customers with the toy models, reading features and predictions through cache-ml when it has one. */
export interface Scorer {
  readonly versions: ModelVersions;
  score(customerId: string, model: ModelName): Promise<ScoreResult>;
  /** Serves `version` from now on and makes the model's cached predictions misses; false when the cache could not be told. */
  deploy(model: ModelName, version: string): Promise<{ previousVersion: string; invalidated: boolean }>;
}

/** Builds the scorer: the only place the service talks to the cache. */
export function createScorer(options: ScorerOptions): Scorer {
  const { ml } = options;
  const versions = options.versions ?? new ModelVersions();
  const costs = options.costs ?? DEFAULT_COSTS;

  return {
    versions,
    async score(customerId, model) {
      const version = versions.current(model);
      let computed = false;
      const compute = async () => {
        computed = true;
        const features = ml ? await ml.getOrComputeFeatures(customerId, () => fetchFeatures(customerId, costs)) : await fetchFeatures(customerId, costs);
        return predict(model, version, features, costs);
      };
      // `modelVersion`: a prediction of another version is a miss, and the new one is stored with this version.
      const prediction = ml ? await ml.getOrComputePrediction(customerId, model, compute, { modelVersion: version }) : await compute();
      return {
        customerId,
        model,
        modelVersion: prediction.model_version,
        riskScore: prediction.risk_score,
        decision: prediction.decision,
        confidence: prediction.confidence,
        computed,
      };
    },
    async deploy(model, version) {
      const previousVersion = versions.set(model, version);
      const invalidated = ml ? await ml.invalidateModelPredictions(model) : true;
      return { previousVersion, invalidated };
    },
  };
}
