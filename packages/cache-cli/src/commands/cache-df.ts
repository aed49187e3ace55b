import { stat } from 'node:fs/promises';
import type { TableFileFormat } from '@finrisk/cache-frames';
import { InvalidArgumentError } from 'commander';
import type { CommandDefinition } from '../command-definition.js';
import { TTL_OPTION } from '../common-options.js';
import { CliError } from '../errors.js';
import { loadFrames, NO_PROGRESS_OPTION, openFrameCache, PROGRESS_DELAY_TEXT, transferListener } from '../frames-access.js';
import { regularFileSize, shownPath, stdinPieces } from '../input-source.js';
import { integerIn } from '../option-parsers.js';
import { formatBytes, formatCount, formatTtl } from '../output/format.js';

/** Formats `--format` accepts. */
const FORMATS: readonly TableFileFormat[] = ['csv', 'tsv', 'json', 'arrow', 'arrow-stream', 'parquet'];
/** `--max-file-mb` when not given: the largest file read, in MiB (a 100 MB CSV takes about 1 GB of memory to cache). */
const DEFAULT_MAX_FILE_MB = 256;

function tooLargeFile(shown: string, size: number | undefined, maxBytes: number, cause?: unknown): CliError {
  return new CliError(
    'E_FILE',
    `${shown} is ${size === undefined ? 'larger than' : `${size} bytes, over`} the limit of --max-file-mb ${maxBytes / 1024 / 1024}; raise it to read this input`,
    cause === undefined ? {} : { cause },
  );
}

/** `cache-df NAME FILE [--ttl N]`: the guide's `cache_dataframe` from a file, or from standard input with `-`. */
export const cacheDfCommand: CommandDefinition = {
  name: 'cache-df',
  summary: 'cache a data frame read from a file or standard input (csv, tsv, json, arrow, parquet)',
  description:
    'Reads a table file (format from its extension: .csv, .tsv, .json, .arrow, .arrows, .parquet, or --format) and caches it under NAME for ' +
    'CACHE_DATAFRAME_TTL seconds (7200) unless --ttl says otherwise. Column types are inferred. FILE - reads standard input ' +
    '(CSV unless --format says otherwise). FILE must be a regular file (a FIFO or a device is refused: pipe it to - instead) ' +
    `of at most --max-file-mb MiB (${DEFAULT_MAX_FILE_MB}); standard input is held to the same limit. On a terminal, a table ` +
    `that takes over ${PROGRESS_DELAY_TEXT} to cache shows its progress on stderr (rows, MiB, rates; --no-progress for none). ` +
    'The first Ctrl-C stops the transfer after its current chunk and removes what it stored (exit 2).',
  arguments: [
    { name: 'NAME', description: 'name of the cached table, e.g. customer_data' },
    { name: 'FILE', description: 'the table file, e.g. data/customers.csv, or - for standard input' },
  ],
  options: [
    TTL_OPTION,
    {
      flags: '--format <FORMAT>',
      description: `the file's format, over its extension: ${FORMATS.join(', ')} (default for -: csv)`,
      parse: (raw) => {
        if (!(FORMATS as readonly string[]).includes(raw)) throw new InvalidArgumentError(`--format must be one of ${FORMATS.join(', ')}.`);
        return raw;
      },
    },
    {
      flags: '--max-file-mb <MB>',
      description: `largest input read, in MiB (default ${DEFAULT_MAX_FILE_MB})`,
      parse: integerIn(1, 1_048_576, '--max-file-mb'),
    },
    NO_PROGRESS_OPTION,
  ],
  examples: [
    'finrisk-cache cache-df customer_data data/customers.csv',
    'finrisk-cache cache-df transaction_data data/transactions.csv --ttl 3600',
    'cat data/customers.csv | finrisk-cache cache-df customer_data -',
    'curl -s https://example.com/rates.json | finrisk-cache cache-df rates - --format json',
  ],
  async run(ctx, [name = '', file = ''], options) {
    const format = options.format as TableFileFormat | undefined;
    const maxBytes = ((options.maxFileMb as number | undefined) ?? DEFAULT_MAX_FILE_MB) * 1024 * 1024;
    // cache-frames first: nothing about FILE is looked at before the lazy import (nodejs/node#51142).
    const frames = await loadFrames();
    const fromStdin = file === '-';
    const path = fromStdin ? '' : ctx.resolvePath(file);
    const shown = fromStdin ? 'standard input' : shownPath(file, path);
    let size: number | undefined;
    let fileFormat = format ?? 'csv';
    if (!fromStdin) {
      // The CLI's own checks first, for messages in its terms; readTableFile repeats them as it opens the file.
      size = await regularFileSize(path, shown, `to read a pipe, give it on standard input: ... | finrisk-cache cache-df ${name} - --format FORMAT`);
      if (size > maxBytes) throw tooLargeFile(shown, size, maxBytes);
      if (!format) {
        try {
          fileFormat = frames.formatOfPath(path);
        } catch (error) {
          throw new CliError('E_FILE', `cannot tell the format of ${shown} from its extension; name it with --format (${FORMATS.join(', ')})`, { cause: error });
        }
      }
    }
    const cache = await openFrameCache(ctx);
    const ttl = (options.ttl as number | undefined) ?? cache.cache.config.ttl.dataframe;
    const progress = ctx.out.transferProgress(options.progress !== false);
    let table;
    let ok: boolean;
    try {
      // Reading the file has no counts to show, only how long it takes.
      progress.status(`Reading ${fromStdin ? 'standard input' : file}`);
      try {
        table = fromStdin
          ? await frames.readTableStream(stdinPieces(ctx, 'FILE'), { format: fileFormat, maxBytes })
          : await frames.readTableFile(path, { format: fileFormat, maxBytes });
      } catch (error) {
        if (frames.FrameError.hasReason(error, 'FILE_TOO_LARGE')) throw tooLargeFile(shown, size, maxBytes, error);
        throw error;
      }
      progress.status(`Caching ${name}`);
      const onProgress = transferListener(ctx, progress, () => new CliError('E_BAD_INPUT', `interrupted while caching ${name}; nothing was stored`));
      ok = await cache.cacheDataFrame(name, table, { ttl, onProgress });
    } finally {
      progress.stop();
    }
    if (!ok) throw new CliError('E_UNAVAILABLE', `could not cache ${name}: the backend did not store it`);
    const info = await cache.getDataFrameInfo(name);
    const rows = table.numRows();
    const columns = table.numCols();
    const from = fromStdin ? 'standard input' : file;
    ctx.out.result({ ok: true, name, file: fromStdin ? '-' : path, rows, columns, ttl, bytes: info?.bytes ?? null, backend: cache.cache.store?.backend }, () =>
      `Cached ${name}: ${formatCount(rows)} rows x ${columns} columns from ${from}` +
      `${info ? ` (${formatBytes(info.bytes)})` : ''}, expires in ${formatTtl(ttl)}`,
    );
  },
};
