import { validateId, type Cache, type CacheKey, type KeyLayout, type KeyPrefix } from '@finrisk/cache-core';
import { invalidKey } from './errors.js';

/**
 * Every key cache-ml reads or writes. Two layouts:
 *
 * `finrisk` (default), under the cache's prefix, every part percent-encoded by core's KeySchema:
 * - prediction: `{prefix}:prediction:{customerId}:{modelType}`: the customer comes first so that
 *   one literal prefix covers all of a customer's predictions.
 * - generation: `{prefix}:generation:prediction:{modelType}`: the token that invalidates a model's predictions.
 * - features: `{prefix}:feature:{customerId}`
 * - artifacts: `{prefix}:model:{modelName}:{version}`
 * - read-through locks: `{prefix}:lock:{kind}:{full key}`
 *
 * `finrisk-python`: the Python service's keys, without prefix, plain JSON:
 * - prediction: `prediction:{model_type}:{customer_id}`
 * - features: `features:{customer_id}`
 * Ids are written as they are (the Python service does not encode them); a model type may not
 * contain `:` there, so that a key always splits into one model type and one customer id.
 * Artifacts and locks keep the `finrisk` layout (the Python service pickled artifacts).
 */
export class MlKeys {
  readonly #cache: Cache;
  readonly #generationKeys = new Map<string, CacheKey>();
  /** The layout of predictions and features. */
  readonly layout: KeyLayout;

  constructor(cache: Cache, layout: KeyLayout) {
    this.#cache = cache;
    this.layout = layout;
  }

  /** True for the Python service's layout. */
  get isPython(): boolean {
    return this.layout === 'finrisk-python';
  }

  #pythonModelType(modelType: string): string {
    validateId(modelType, 'modelType');
    if (modelType.includes(':')) {
      throw invalidKey(`modelType ${JSON.stringify(modelType)} contains ':'; the finrisk-python layout cannot store it without colliding with another customer's key`);
    }
    return modelType;
  }

  /** Key of one customer's prediction by one model. */
  prediction(customerId: string, modelType: string): CacheKey {
    if (this.isPython) {
      const model = this.#pythonModelType(modelType);
      return { kind: 'prediction', key: `prediction:${model}:${validateId(customerId, 'customerId')}`, format: 'json' };
    }
    validateId(customerId, 'customerId');
    validateId(modelType, 'modelType');
    return this.#cache.keys.key('prediction', customerId, modelType);
  }

  /** Literal prefix of one customer's predictions (every model), or of all predictions. */
  predictionPrefix(customerId?: string): KeyPrefix {
    if (this.isPython) return { kind: 'prediction', prefix: 'prediction:' };
    const parts = customerId === undefined ? [] : [validateId(customerId, 'customerId')];
    return { kind: 'prediction', prefix: this.#cache.keys.prefixOf('prediction', ...parts) };
  }

  /** finrisk-python only: literal prefix of one model's predictions (the model type comes first there). */
  pythonModelPrefix(modelType: string): KeyPrefix {
    return { kind: 'prediction', prefix: `prediction:${this.#pythonModelType(modelType)}:` };
  }

  /** finrisk-python only: the customer id of a prediction key, or null when the key is not one. */
  pythonCustomerOf(key: string): string | null {
    if (!key.startsWith('prediction:')) return null;
    const rest = key.slice('prediction:'.length);
    const colon = rest.indexOf(':');
    return colon <= 0 ? null : rest.slice(colon + 1);
  }

  /** Key of a model type's generation token (`finrisk` layout). */
  generation(modelType: string): CacheKey {
    // Every prediction read needs it: remember the few model types a service uses.
    let key = this.#generationKeys.get(modelType);
    if (key === undefined) {
      key = Object.freeze({ ...this.#cache.keys.key('generation', 'prediction', validateId(modelType, 'modelType')), internal: true });
      if (this.#generationKeys.size >= 1024) this.#generationKeys.clear();
      this.#generationKeys.set(modelType, key);
    }
    return key;
  }

  /** Literal prefix of every model type's generation token (`finrisk` layout): only tokens live under it. */
  generationPrefix(): KeyPrefix {
    return { kind: 'generation', prefix: this.#cache.keys.prefixOf('generation', 'prediction') };
  }

  /** Key of one customer's features. */
  feature(customerId: string): CacheKey {
    if (this.isPython) return { kind: 'feature', key: `features:${validateId(customerId, 'customerId')}`, format: 'json' };
    return this.#cache.keys.key('feature', validateId(customerId, 'customerId'));
  }

  /** Literal prefix of every customer's features. */
  featurePrefix(): KeyPrefix {
    if (this.isPython) return { kind: 'feature', prefix: 'features:' };
    return { kind: 'feature', prefix: this.#cache.keys.prefixOf('feature') };
  }

  /** Key of one version of a model's artifacts. */
  artifact(modelName: string, version: string): CacheKey {
    validateId(modelName, 'modelName');
    validateId(version, 'version');
    return this.#cache.keys.key('model', modelName, version);
  }

  /** Literal prefix of every version of one model's artifacts, or of every model's. */
  artifactPrefix(modelName?: string): KeyPrefix {
    const parts = modelName === undefined ? [] : [validateId(modelName, 'modelName')];
    return { kind: 'model', prefix: this.#cache.keys.prefixOf('model', ...parts) };
  }

  /** Key of the read-through lock that guards `target`. */
  lock(target: CacheKey): CacheKey {
    return { ...this.#cache.keys.key('lock', target.kind, target.key), internal: true };
  }
}
