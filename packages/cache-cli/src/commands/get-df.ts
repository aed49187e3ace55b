import { lstat } from 'node:fs/promises';
import type { CommandDefinition } from '../command-definition.js';
import { CliError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import {
  loadFrames, NO_PROGRESS_OPTION, openFrameCache, outputFormatOf, previewCell, PROGRESS_DELAY_TEXT, transferListener, unreadableFrameJson,
  unreadableFrameMessage, watchUnreadableFrames,
} from '../frames-access.js';
import { shownPath } from '../input-source.js';
import { integerIn } from '../option-parsers.js';
import { formatCount } from '../output/format.js';
import { printable } from '../output/printable.js';
import { formatTable } from '../output/table.js';

/** `get-df NAME [--output FILE [--force]]`: the guide's `get_cached_dataframe`, as a preview or into a file. */
export const getDfCommand: CommandDefinition = {
  name: 'get-df',
  summary: 'show a cached data frame (shape, column types, first rows) or write it to a file with --output',
  description:
    'Without --output: prints the shape, the column types and the first rows (--rows, default 10). With --output: writes the ' +
    'whole table to the file, in the format its extension names (.csv, .tsv, .json, .arrow). An existing file is refused unless ' +
    '--force; with --force it is rewritten in place, so its mode, owner, hard links and symlinks stay. Exits 1 when nothing is ' +
    'cached under NAME, or what is cached is corrupt (the message says so and how to clear it). On a terminal, a table that ' +
    `takes over ${PROGRESS_DELAY_TEXT} to read shows its progress on stderr (rows, MiB, rates; --no-progress for none). ` +
    'The first Ctrl-C stops the read after its current chunk (exit 2).',
  arguments: [{ name: 'NAME', description: 'name of the cached table, e.g. customer_data' }],
  options: [
    { flags: '--output <FILE>', description: 'write the table to FILE (.csv, .tsv, .json or .arrow)' },
    { flags: '--force', description: 'overwrite FILE when it exists (in place: its mode, owner and links stay)' },
    { flags: '--rows <N>', description: 'rows in the preview', parse: integerIn(0, 1_000_000, '--rows'), default: 10 },
    NO_PROGRESS_OPTION,
  ],
  examples: [
    'finrisk-cache get-df customer_data',
    'finrisk-cache get-df customer_data --output customers_export.csv',
    'finrisk-cache get-df customer_data --output customers_export.csv --force',
  ],
  async run(ctx, [name = ''], options) {
    const output = options.output as string | undefined;
    const force = options.force === true;
    const format = output === undefined ? undefined : await outputFormatOf(output);
    const path = output === undefined ? undefined : ctx.resolvePath(output);
    // Refused before the table is read; writeTableFile checks again (O_EXCL), so a file that
    // appears meanwhile is not overwritten either.
    if (output !== undefined && !force && (await lstat(path!).then(() => true, () => false))) {
      throw new CliError('E_FILE', `${shownPath(output, path!)} exists; pass --force to overwrite it (in place: its mode, owner and links stay)`);
    }
    const frames = await openFrameCache(ctx);
    const unreadable = watchUnreadableFrames(frames);
    const info = await frames.getDataFrameInfo(name);
    const progress = ctx.out.transferProgress(options.progress !== false);
    let table;
    try {
      progress.status(`Reading ${name}`);
      const onProgress = transferListener(ctx, progress, () => new CliError('E_BAD_INPUT', `interrupted while reading ${name}`));
      table = info ? await frames.getCachedDataFrame(name, { onProgress }) : null;
      if (table && output !== undefined) {
        progress.status(`Writing ${output}`);
        await (await loadFrames()).writeTableFile(table, path!, { format, overwrite: force });
      }
    } finally {
      progress.stop();
    }
    if (!info || !table) {
      const problem = unreadable(name);
      if (problem) {
        ctx.out.json({ found: false, corrupt: true, name, error: unreadableFrameJson(problem) });
        ctx.out.error(unreadableFrameMessage(name, problem));
      } else {
        ctx.out.json({ found: false, name });
        ctx.out.error(`no data frame named ${name} is cached (see \`finrisk-cache list-df\`)`);
      }
      return ExitCode.NOT_FOUND;
    }
    const shape = { rows: table.numRows(), columns: table.numCols() };
    const columnTypes = info.columns.map((c) => ({ name: c.name, type: c.type }));
    if (output !== undefined) {
      ctx.out.result({ found: true, name, output: path, format, ...shape }, () =>
        `Wrote ${name} (${formatCount(shape.rows)} rows x ${shape.columns} columns) to ${output}`,
      );
      return;
    }
    const limit = options.rows as number;
    const rows = table.objects({ limit }) as Record<string, unknown>[];
    ctx.out.result({ found: true, name, shape, columns: columnTypes, preview: rows }, () => {
      const c = ctx.out.colors;
      const names = table.columnNames();
      const lines = [
        `${c.bold(name)}: ${formatCount(shape.rows)} rows x ${shape.columns} columns`,
        '',
        formatTable(columnTypes.map((col) => [printable(col.name), col.type]), { header: ['Column', 'Type'] }),
        '',
        formatTable(rows.map((row) => names.map((n) => previewCell(row[n]))), { header: names.map(printable) }),
      ];
      if (shape.rows > rows.length) lines.push(c.dim(`... ${formatCount(shape.rows - rows.length)} more rows (--rows N, or --output FILE for all)`));
      return lines.join('\n');
    });
  },
};
