import type { FrameCache, TableFileFormat } from '@finrisk/cache-frames';
import type { CommandContext } from './command-context.js';
import { CliError } from './errors.js';

/** cache-frames (arquero, Arrow, Parquet), loaded only by the data frame commands: the others start faster. */
export function loadFrames(): Promise<typeof import('@finrisk/cache-frames')> {
  return import('@finrisk/cache-frames');
}

/** The data frame API on the command's cache (strict: failures throw). */
export async function openFrameCache(ctx: CommandContext): Promise<FrameCache> {
  const { createFrameCache } = await loadFrames();
  return createFrameCache(ctx.cache());
}

/** Files of at least this size get a progress bar on a terminal. */
export const LARGE_FILE_BYTES = 1024 * 1024;

/**
 * The format a file's extension names, for `get-df --output`: cache-frames' rules (.csv, .tsv,
 * .json, .arrow, .feather, .arrows), where Parquet can only be read.
 */
export async function outputFormatOf(path: string): Promise<TableFileFormat> {
  const { formatOfPath } = await loadFrames();
  let format: TableFileFormat;
  try {
    format = formatOfPath(path);
  } catch (error) {
    throw new CliError('E_BAD_INPUT', `cannot tell the format of ${path} from its extension: use .csv, .tsv, .json, .arrow or .feather`, { cause: error });
  }
  if (format === 'parquet') throw new CliError('E_BAD_INPUT', `cannot write ${path}: Parquet can be read, not written; use .csv, .tsv, .json or .arrow`);
  return format;
}

/** Text of one cell in a preview: short, one line. */
export function previewCell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const line = text.replace(/\s+/g, ' ');
  return line.length > 32 ? `${line.slice(0, 31)}…` : line;
}
