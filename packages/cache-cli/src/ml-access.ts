import { createMlCache, type MlCache } from '@finrisk/cache-ml';
import type { CommandContext } from './command-context.js';

/** The predictions / features / artifacts API on the command's cache (strict: failures throw). */
export function openMlCache(ctx: CommandContext): MlCache {
  return createMlCache(ctx.cache());
}
