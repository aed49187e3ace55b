import { createFrameCache, type FrameCache } from '@finrisk/cache-frames';
import type { CommandContext } from './command-context.js';
import { CliError } from './errors.js';

/** The data frame API on the command's cache (strict: failures throw). */
export function openFrameCache(ctx: CommandContext): FrameCache {
  return createFrameCache(ctx.cache());
}

/** Files of at least this size get a progress bar on a terminal. */
export const LARGE_FILE_BYTES = 1024 * 1024;

/** Table file formats by extension, for `get-df --output`. */
const FORMATS = ['csv', 'tsv', 'json', 'arrow'] as const;

/** The format a file's extension names; E_BAD_INPUT for any other extension. */
export function outputFormatOf(path: string): (typeof FORMATS)[number] {
  const extension = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  const format = FORMATS.find((f) => f === extension);
  if (!format) {
    throw new CliError('E_BAD_INPUT', `cannot tell the format of ${path} from its extension: use .csv, .tsv, .json or .arrow`);
  }
  return format;
}

/** Text of one cell in a preview: short, one line. */
export function previewCell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const line = text.replace(/\s+/g, ' ');
  return line.length > 32 ? `${line.slice(0, 31)}…` : line;
}
