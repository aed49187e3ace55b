import type { CommandDefinition } from '../command-definition.js';
import { ExitCode } from '../exit-codes.js';
import { openFrameCache, unreadableFrameJson, unreadableFrameMessage, watchUnreadableFrames } from '../frames-access.js';
import { formatBytes, formatCount } from '../output/format.js';
import { printable } from '../output/printable.js';
import { formatPairs, formatTable } from '../output/table.js';

/** `info-df NAME`: a cached data frame's manifest, without reading its rows. */
export const infoDfCommand: CommandDefinition = {
  name: 'info-df',
  summary: "show a cached data frame's shape, column types, size and expiry without reading it (exit 1 when missing or corrupt)",
  arguments: [{ name: 'NAME', description: 'name of the cached table, e.g. customer_data' }],
  examples: ['finrisk-cache info-df customer_data', 'finrisk-cache info-df customer_data --json'],
  async run(ctx, [name = '']) {
    const frames = await openFrameCache(ctx);
    const unreadable = watchUnreadableFrames(frames);
    const info = await frames.getDataFrameInfo(name);
    if (!info) {
      const problem = unreadable(name);
      if (problem) {
        ctx.out.json({ found: false, corrupt: true, name, error: unreadableFrameJson(problem) });
        ctx.out.error(unreadableFrameMessage(name, problem));
        return ExitCode.NOT_FOUND;
      }
      ctx.out.json({ found: false, name });
      ctx.out.error(`no data frame named ${name} is cached (see \`finrisk-cache list-df\`)`);
      return ExitCode.NOT_FOUND;
    }
    ctx.out.result(
      { found: true, ...info, writtenAt: info.writtenAt.toISOString(), expiresAt: info.expiresAt?.toISOString() ?? null },
      () =>
        [
          formatPairs([
            ['Name', info.name],
            ['Rows', formatCount(info.rows)],
            ['Columns', String(info.columns.length)],
            ['Bytes', formatBytes(info.bytes)],
            ['Chunks', String(info.chunks)],
            ['Compression', String(info.compression)],
            ['Written at', info.writtenAt.toISOString()],
            ['Expires at', info.expiresAt?.toISOString() ?? 'never'],
          ]),
          '',
          formatTable(
            info.columns.map((c) => [printable(c.name), c.type, formatCount(c.nullCount), formatBytes(c.bytes)]),
            { header: ['Column', 'Type', 'Nulls', 'Bytes'], alignRight: [2, 3] },
          ),
        ].join('\n'),
    );
  },
};
