export { MlCache, createMlCache } from './ml-cache.js';
export {
  getMlCache,
  cacheModelPrediction,
  getCachedPrediction,
  getCachedPredictionEntry,
  getCachedPredictions,
  cachePredictionsMany,
  getOrComputePrediction,
  invalidateModelPredictions,
  clearPredictionCache,
  cacheFeatures,
  getCachedFeatures,
  getCachedFeaturesEntry,
  getCachedFeaturesMany,
  updateFeatures,
  cacheFeaturesMany,
  getOrComputeFeatures,
  clearFeatureCache,
  cacheModelArtifacts,
  getCachedModelArtifacts,
  getOrComputeModelArtifacts,
  clearModelCache,
} from './default-ml-cache.js';
export { registerArtifactClass } from './artifact-classes.js';
export { MlKeys } from './ml-keys.js';
export { FinRiskCacheError } from './errors.js';
export type {
  ClearOptions,
  FeatureEntry,
  FeatureReadOptions,
  LockOptions,
  MlCacheErrorEvent,
  MlCacheOptions,
  MlCacheStats,
  PredictionEntry,
  PredictionReadOptions,
  PredictionReadThroughOptions,
  PredictionWriteOptions,
  ReadOptions,
  ReadThroughOptions,
  SchemaWriteOptions,
  WriteOptions,
} from './options.js';
export type { CachedEntry } from './stored-entry.js';
export type { FeaturesEntry } from './features.js';
export type { Schema } from './schema.js';
