import type { FrameCache } from '@finrisk/cache-frames';
import type { MlCache } from '@finrisk/cache-ml';
import { CliError } from '../errors.js';

/** What a clear deletes: a customer's predictions or features, a model's artifacts, a data frame. */
export type ClearTarget = 'predictions' | 'features' | 'model' | 'frame';

/** A clear the page asks for: `confirm` is what the user typed, and must be `name`. */
export interface ClearRequest {
  target: ClearTarget;
  /** The customer id, model name or frame name. */
  name: string;
  confirm: string;
}

/** What a clear did. */
export interface ClearOutcome {
  /** Keys deleted (a frame: 1 when it existed). */
  deleted: number;
  /** What was cleared, in words. */
  scope: string;
}

const TARGETS: readonly ClearTarget[] = ['predictions', 'features', 'model', 'frame'];

/** Checks a clear request's shape; the typed confirmation must equal the name exactly. Throws E_BAD_INPUT. */
export function parseClearRequest(body: unknown): ClearRequest {
  const b = body as Partial<Record<keyof ClearRequest, unknown>> | null;
  if (typeof b !== 'object' || b === null || !TARGETS.includes(b.target as ClearTarget) || typeof b.name !== 'string' || b.name === '' || typeof b.confirm !== 'string') {
    throw new CliError('E_BAD_INPUT', `a clear needs {"target": ${TARGETS.map((t) => `"${t}"`).join(' | ')}, "name": "...", "confirm": "..."}`);
  }
  if (b.confirm !== b.name) throw new CliError('E_BAD_INPUT', `the confirmation does not match: type ${JSON.stringify(b.name)} exactly to clear it`);
  return { target: b.target as ClearTarget, name: b.name, confirm: b.confirm };
}

/**
 * Runs a clear with the same calls as `clear-pred --customer`, `clear-feat --customer`,
 * `clear-model --model` and a frame delete (SCAN and UNLINK, never KEYS). A walk the backend cut
 * short throws, naming how far it got.
 */
export async function performClear(ml: MlCache, frames: () => Promise<FrameCache>, request: ClearRequest): Promise<ClearOutcome> {
  const { target, name } = request;
  if (target === 'frame') {
    const existed = await (await frames()).deleteDataFrame(name);
    return { deleted: existed ? 1 : 0, scope: `data frame ${name}` };
  }
  const scope = target === 'predictions' ? `predictions of ${name}` : target === 'features' ? `features of ${name}` : `artifacts of model ${name}`;
  const result =
    target === 'predictions' ? await ml.clearPredictionCache(name) : target === 'features' ? await ml.clearFeatureCache(name) : await ml.clearModelCache(name);
  if (!result.complete) {
    throw new CliError('E_UNAVAILABLE', `clearing ${scope} did not finish (${result.count} keys deleted before it stopped): ${result.error?.message ?? 'the backend failed'}`);
  }
  return { deleted: result.count, scope };
}
