import { FinRiskCacheError, type BulkResult } from '@finrisk/cache-core';
import type { CommandContext } from '../command-context.js';

/**
 * Prints the outcome of a clear command, dry run or not. A walk the backend cut short is an
 * error naming how far it got (the cache runs strict in the CLI, so this is a second line of
 * defence for a store that ends a scan without throwing).
 */
export function reportClear(ctx: CommandContext, result: BulkResult, scope: string, dryRun: boolean): void {
  const { count } = result;
  if (!result.complete) {
    const done = `${count} key${count === 1 ? '' : 's'} ${dryRun ? 'counted' : 'deleted'} before it stopped`;
    throw new FinRiskCacheError(result.error?.code ?? 'E_REDIS_UNAVAILABLE', `clearing ${scope} did not finish (${done}): ${result.error?.message ?? 'the backend failed'}`, {
      cause: result.error,
    });
  }
  const keys = `${count} key${count === 1 ? '' : 's'}`;
  ctx.out.result({ ok: true, dryRun, scope, ...(dryRun ? { wouldDelete: count } : { deleted: count }) }, () =>
    dryRun ? `Would delete ${keys} (${scope}); nothing was deleted (--dry-run)` : `Deleted ${keys} (${scope})`,
  );
}
