import type { CommandDefinition } from '../command-definition.js';
import { TTL_OPTION } from '../common-options.js';
import { CliError } from '../errors.js';
import { LARGE_FILE_BYTES, loadFrames, openFrameCache } from '../frames-access.js';
import { existingFile } from '../input-file.js';
import { formatBytes, formatCount, formatTtl } from '../output/format.js';

/** `cache-df NAME FILE [--ttl N]`: the guide's `cache_dataframe` from a file. */
export const cacheDfCommand: CommandDefinition = {
  name: 'cache-df',
  summary: 'cache a data frame read from a file (csv, tsv, json, arrow, parquet)',
  description:
    'Reads a table file (format from its extension: .csv, .tsv, .json, .arrow, .parquet) and caches it under NAME for ' +
    'CACHE_DATAFRAME_TTL seconds (7200) unless --ttl says otherwise. Column types are inferred.',
  arguments: [
    { name: 'NAME', description: 'name of the cached table, e.g. customer_data' },
    { name: 'FILE', description: 'the table file, e.g. data/customers.csv' },
  ],
  options: [TTL_OPTION],
  examples: ['finrisk-cache cache-df customer_data data/customers.csv', 'finrisk-cache cache-df transaction_data data/transactions.csv --ttl 3600'],
  async run(ctx, [name = '', file = ''], options) {
    const input = existingFile(ctx.io.cwd, file);
    const frames = await openFrameCache(ctx);
    const ttl = (options.ttl as number | undefined) ?? frames.cache.config.ttl.dataframe;
    const progress = input.size >= LARGE_FILE_BYTES ? ctx.out.progress({ label: `Reading ${file}`, total: 2 }) : undefined;
    progress?.update(0);
    const table = await (await loadFrames()).readTableFile(input.path);
    progress?.label(`Caching ${name}`);
    progress?.update(1);
    let ok: boolean;
    try {
      ok = await frames.cacheDataFrame(name, table, { ttl });
    } finally {
      progress?.done();
    }
    if (!ok) throw new CliError('E_UNAVAILABLE', `could not cache ${name}: the backend did not store it`);
    const info = await frames.getDataFrameInfo(name);
    const rows = table.numRows();
    const columns = table.numCols();
    ctx.out.result({ ok: true, name, file: input.path, rows, columns, ttl, bytes: info?.bytes ?? null, backend: frames.cache.store?.backend }, () =>
      `Cached ${name}: ${formatCount(rows)} rows x ${columns} columns from ${file}` +
      `${info ? ` (${formatBytes(info.bytes)})` : ''}, expires in ${formatTtl(ttl)}`,
    );
  },
};
