import type { DataFrameInfo } from '@finrisk/cache-frames';
import type { CommandDefinition } from '../command-definition.js';
import { openFrameCache, unreadableFrameJson, unreadableFrameMessage, watchUnreadableFrames } from '../frames-access.js';
import { formatBytes, formatCount, formatTtl } from '../output/format.js';
import { formatTable } from '../output/table.js';

/** `list-df`: every cached data frame with its shape and size. */
export const listDfCommand: CommandDefinition = {
  name: 'list-df',
  summary: 'list cached data frames with rows, columns, size and time to live (corrupt ones are named on stderr)',
  examples: ['finrisk-cache list-df', 'finrisk-cache list-df --json'],
  async run(ctx) {
    const frames = await openFrameCache(ctx);
    const unreadable = watchUnreadableFrames(frames);
    const infos: DataFrameInfo[] = [];
    const corrupt: { name: string; error: ReturnType<typeof unreadableFrameJson> }[] = [];
    for (const name of await frames.listDataFrames()) {
      const info = await frames.getDataFrameInfo(name);
      if (info) infos.push(info);
      const problem = unreadable(name);
      if (!info && problem) {
        corrupt.push({ name, error: unreadableFrameJson(problem) });
        ctx.out.warn(unreadableFrameMessage(name, problem));
      }
    }
    const now = Date.now();
    const ttlOf = (expiresAt: Date | null) => (expiresAt ? Math.max(0, Math.ceil((expiresAt.getTime() - now) / 1000)) : -1);
    ctx.out.result(
      {
        dataFrames: infos.map((i) => ({
          name: i.name, rows: i.rows, columns: i.columns.length, bytes: i.bytes,
          writtenAt: i.writtenAt.toISOString(), expiresAt: i.expiresAt?.toISOString() ?? null,
        })),
        corrupt,
      },
      () =>
        infos.length === 0
          ? corrupt.length > 0 ? 'No readable data frames are cached.' : 'No data frames are cached.'
          : formatTable(
              infos.map((i) => [i.name, formatCount(i.rows), String(i.columns.length), formatBytes(i.bytes), formatTtl(ttlOf(i.expiresAt))]),
              { header: ['Name', 'Rows', 'Columns', 'Bytes', 'Expires in'], alignRight: [1, 2, 3] },
            ),
    );
  },
};
