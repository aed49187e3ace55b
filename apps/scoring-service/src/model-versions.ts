import type { ModelName } from './toy-model.js';

/**
 * The model version each model serves, in this process. A real deployment gets it from its
 * config or model registry; here `POST /v1/models/:name/versions/:version` sets it.
 */
export class ModelVersions {
  readonly #versions = new Map<ModelName, string>();
  readonly #initial: string;

  constructor(initial = 'v1') {
    this.#initial = initial;
  }

  /** The version `model` serves now. */
  current(model: ModelName): string {
    return this.#versions.get(model) ?? this.#initial;
  }

  /** Makes `version` the one `model` serves; returns the previous one. */
  set(model: ModelName, version: string): string {
    const previous = this.current(model);
    this.#versions.set(model, version);
    return previous;
  }
}
