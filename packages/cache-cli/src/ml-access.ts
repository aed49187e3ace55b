import type { MlCache } from '@finrisk/cache-ml';
import type { CommandContext } from './command-context.js';

/** The predictions / features / artifacts API on the command's cache (strict: failures throw); loaded on first use. */
export async function openMlCache(ctx: CommandContext): Promise<MlCache> {
  const { createMlCache } = await import('@finrisk/cache-ml');
  return createMlCache(ctx.cache());
}
