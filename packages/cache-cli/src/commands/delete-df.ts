import type { CommandDefinition } from '../command-definition.js';
import { ExitCode } from '../exit-codes.js';
import { openFrameCache } from '../frames-access.js';

/** `delete-df NAME`: removes a cached data frame, readable or not. */
export const deleteDfCommand: CommandDefinition = {
  name: 'delete-df',
  // The name a reader of clear-pred, clear-model and clear-feat looks for first.
  aliases: ['clear-df'],
  summary: 'delete a cached data frame, corrupt or not (exit 1 when there is none)',
  description:
    'Deletes the manifest of NAME (reads miss at once), then every chunk of every version under it, with SCAN and UNLINK: those ' +
    'of a write in progress or of a writer that was killed (otherwise left to expire with their staging TTL) and its record of ' +
    'writes in progress too. Works on a corrupt table too: that is how one is cleared. Exits 1 when no table named NAME was cached.',
  arguments: [{ name: 'NAME', description: 'name of the cached table, e.g. customer_data' }],
  examples: ['finrisk-cache delete-df customer_data', 'finrisk-cache clear-df customer_data   # the same command'],
  async run(ctx, [name = '']) {
    const frames = await openFrameCache(ctx);
    const existed = await frames.deleteDataFrame(name);
    ctx.out.json({ ok: existed, deleted: existed, name });
    if (!existed) {
      ctx.out.error(`no data frame named ${name} is cached (see \`finrisk-cache list-df\`)`);
      return ExitCode.NOT_FOUND;
    }
    ctx.out.line(`Deleted data frame ${name}`);
  },
};
