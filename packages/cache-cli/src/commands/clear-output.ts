import type { CommandContext } from '../command-context.js';

/** Prints the outcome of a clear command, dry run or not. */
export function reportClear(ctx: CommandContext, count: number, scope: string, dryRun: boolean): void {
  const keys = `${count} key${count === 1 ? '' : 's'}`;
  ctx.out.result({ ok: true, dryRun, scope, ...(dryRun ? { wouldDelete: count } : { deleted: count }) }, () =>
    dryRun ? `Would delete ${keys} (${scope}); nothing was deleted (--dry-run)` : `Deleted ${keys} (${scope})`,
  );
}
