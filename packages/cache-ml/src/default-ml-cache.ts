import { getCache, type BulkResult, type Cache } from '@finrisk/cache-core';
import { MlCache } from './ml-cache.js';
import type { CachedEntry } from './stored-entry.js';
import type {
  ClearOptions,
  FeatureEntry,
  FeatureReadOptions,
  PredictionEntry,
  PredictionReadOptions,
  PredictionReadThroughOptions,
  PredictionWriteOptions,
  ReadOptions,
  ReadThroughOptions,
  SchemaWriteOptions,
  WriteOptions,
} from './options.js';
import type { FeaturesEntry } from './features.js';

// One MlCache per Cache: after resetCache() the next getCache() is a new Cache, so a new MlCache.
const instances = new WeakMap<Cache, MlCache>();

/** The MlCache on the process-wide cache (`getCache()`), with default options; the free functions use it. */
export function getMlCache(): MlCache {
  const cache = getCache();
  let ml = instances.get(cache);
  if (!ml) instances.set(cache, (ml = new MlCache(cache)));
  return ml;
}

/** {@link MlCache.cacheModelPrediction} on the process-wide cache. */
export function cacheModelPrediction<T extends object = Record<string, unknown>>(customerId: string, modelType: string, prediction: T, options?: PredictionWriteOptions<T>): Promise<boolean> {
  return getMlCache().cacheModelPrediction(customerId, modelType, prediction, options);
}

/** {@link MlCache.getCachedPrediction} on the process-wide cache. */
export function getCachedPrediction<T extends object = Record<string, unknown>>(customerId: string, modelType: string, options?: PredictionReadOptions<T>): Promise<T | null> {
  return getMlCache().getCachedPrediction(customerId, modelType, options);
}

/** {@link MlCache.getCachedPredictionEntry} on the process-wide cache. */
export function getCachedPredictionEntry<T extends object = Record<string, unknown>>(customerId: string, modelType: string, options?: PredictionReadOptions<T>): Promise<CachedEntry<T> | null> {
  return getMlCache().getCachedPredictionEntry(customerId, modelType, options);
}

/** {@link MlCache.getCachedPredictions} on the process-wide cache. */
export function getCachedPredictions<T extends object = Record<string, unknown>>(customerIds: readonly string[], modelType: string, options?: PredictionReadOptions<T>): Promise<(T | null)[]> {
  return getMlCache().getCachedPredictions(customerIds, modelType, options);
}

/** {@link MlCache.cachePredictionsMany} on the process-wide cache. */
export function cachePredictionsMany<T extends object = Record<string, unknown>>(entries: readonly PredictionEntry<T>[], options?: SchemaWriteOptions<T>): Promise<boolean> {
  return getMlCache().cachePredictionsMany(entries, options);
}

/** {@link MlCache.getOrComputePrediction} on the process-wide cache. */
export function getOrComputePrediction<T extends object = Record<string, unknown>>(
  customerId: string,
  modelType: string,
  compute: () => T | Promise<T>,
  options?: PredictionReadThroughOptions<T>,
): Promise<T> {
  return getMlCache().getOrComputePrediction(customerId, modelType, compute, options);
}

/** {@link MlCache.invalidateModelPredictions} on the process-wide cache. */
export function invalidateModelPredictions(modelType: string): Promise<boolean> {
  return getMlCache().invalidateModelPredictions(modelType);
}

/** {@link MlCache.clearPredictionCache} on the process-wide cache. */
export function clearPredictionCache(customerId?: string, options?: ClearOptions): Promise<BulkResult> {
  return getMlCache().clearPredictionCache(customerId, options);
}

/** {@link MlCache.cacheFeatures} on the process-wide cache. */
export function cacheFeatures<T extends object = Record<string, unknown>>(customerId: string, features: T, options?: SchemaWriteOptions<T>): Promise<boolean> {
  return getMlCache().cacheFeatures(customerId, features, options);
}

/** {@link MlCache.getCachedFeatures} on the process-wide cache. */
export function getCachedFeatures<T extends object = Record<string, unknown>>(customerId: string, options?: FeatureReadOptions<T>): Promise<T | null> {
  return getMlCache().getCachedFeatures(customerId, options);
}

/** {@link MlCache.getCachedFeaturesEntry} on the process-wide cache. */
export function getCachedFeaturesEntry<T extends object = Record<string, unknown>>(customerId: string, options?: FeatureReadOptions<T>): Promise<FeaturesEntry<T> | null> {
  return getMlCache().getCachedFeaturesEntry(customerId, options);
}

/** {@link MlCache.getCachedFeaturesMany} on the process-wide cache. */
export function getCachedFeaturesMany<T extends object = Record<string, unknown>>(customerIds: readonly string[], options?: FeatureReadOptions<T>): Promise<(T | null)[]> {
  return getMlCache().getCachedFeaturesMany(customerIds, options);
}

/** {@link MlCache.updateFeatures} on the process-wide cache. */
export function updateFeatures<T extends object = Record<string, unknown>>(customerId: string, partial: Partial<T>, options?: WriteOptions): Promise<boolean> {
  return getMlCache().updateFeatures(customerId, partial, options);
}

/** {@link MlCache.cacheFeaturesMany} on the process-wide cache. */
export function cacheFeaturesMany<T extends object = Record<string, unknown>>(entries: readonly FeatureEntry<T>[], options?: SchemaWriteOptions<T>): Promise<boolean> {
  return getMlCache().cacheFeaturesMany(entries, options);
}

/** {@link MlCache.getOrComputeFeatures} on the process-wide cache. */
export function getOrComputeFeatures<T extends object = Record<string, unknown>>(customerId: string, compute: () => T | Promise<T>, options?: ReadThroughOptions<T>): Promise<T> {
  return getMlCache().getOrComputeFeatures(customerId, compute, options);
}

/** {@link MlCache.clearFeatureCache} on the process-wide cache. */
export function clearFeatureCache(customerId?: string, options?: ClearOptions): Promise<BulkResult> {
  return getMlCache().clearFeatureCache(customerId, options);
}

/** {@link MlCache.cacheModelArtifacts} on the process-wide cache. */
export function cacheModelArtifacts<A = unknown>(modelName: string, version: string, artifacts: A, options?: SchemaWriteOptions<A>): Promise<boolean> {
  return getMlCache().cacheModelArtifacts(modelName, version, artifacts, options);
}

/** {@link MlCache.getCachedModelArtifacts} on the process-wide cache. */
export function getCachedModelArtifacts<A = unknown>(modelName: string, version: string, options?: ReadOptions<A>): Promise<A | null> {
  return getMlCache().getCachedModelArtifacts(modelName, version, options);
}

/** {@link MlCache.getOrComputeModelArtifacts} on the process-wide cache. */
export function getOrComputeModelArtifacts<A = unknown>(modelName: string, version: string, compute: () => A | Promise<A>, options?: ReadThroughOptions<A>): Promise<A> {
  return getMlCache().getOrComputeModelArtifacts(modelName, version, compute, options);
}

/** {@link MlCache.clearModelCache} on the process-wide cache. */
export function clearModelCache(modelName?: string, options?: ClearOptions): Promise<BulkResult> {
  return getMlCache().clearModelCache(modelName, options);
}
