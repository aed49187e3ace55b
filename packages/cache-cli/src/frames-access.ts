import type { FrameCache, FrameErrorEvent, FrameProgressListener, TableFileFormat } from '@finrisk/cache-frames';
import type { CommandContext } from './command-context.js';
import type { CommandOption } from './command-definition.js';
import { CliError } from './errors.js';
import { PROGRESS_DELAY_MS, type TransferProgress } from './output/transfer-progress.js';
import { printable } from './output/printable.js';
import { truncateToWidth } from './output/text-width.js';

/** cache-frames (arquero, Arrow, Parquet), loaded only by the data frame commands: the others start faster. */
export function loadFrames(): Promise<typeof import('@finrisk/cache-frames')> {
  return import('@finrisk/cache-frames');
}

/** The data frame API on the command's cache (strict: failures throw). */
export async function openFrameCache(ctx: CommandContext): Promise<FrameCache> {
  const { createFrameCache } = await loadFrames();
  return createFrameCache(ctx.cache());
}

/** How long a step lasts before its progress line shows, as help text says it: `0.3 s`. */
export const PROGRESS_DELAY_TEXT = `${PROGRESS_DELAY_MS / 1000} s`;

/** `--no-progress` of cache-df and get-df. */
export const NO_PROGRESS_OPTION: CommandOption = {
  flags: '--no-progress',
  description: `no progress line on stderr (drawn only on a terminal, once a step has lasted ${PROGRESS_DELAY_TEXT})`,
};

/**
 * The onProgress of a table transfer: tells `progress`, and stops the transfer at its next chunk
 * once the command's signal has aborted (the first Ctrl-C or SIGTERM). What a listener throws
 * aborts the transfer (a write removes the chunks it stored) and is thrown by it, so the command
 * ends with `interrupted`'s message instead of running to the end of a large table.
 */
export function transferListener(ctx: CommandContext, progress: TransferProgress, interrupted: () => CliError): FrameProgressListener {
  return (report) => {
    if (ctx.io.signal?.aborted) throw interrupted();
    progress.onProgress(report);
  };
}

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

/** Text of one cell in a preview: one line of at most 32 columns, control characters escaped. */
export function previewCell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return truncateToWidth(printable(text.replace(/\s+/g, ' ')), 32);
}

/**
 * The tables a command found stored but could not read (a corrupt or forged manifest, a chunk
 * that fails its checks or is missing), by name: reads of them are misses with an error event,
 * which this hears so that the command can say so and how to clear them.
 */
export function watchUnreadableFrames(frames: FrameCache): (name: string) => FrameErrorEvent | undefined {
  const found = new Map<string, FrameErrorEvent>();
  frames.on('error', (event) => {
    if (!found.has(event.table)) found.set(event.table, event);
  });
  return (name) => found.get(name);
}

/** One line on an unreadable table: what is wrong, and how to clear it. */
export function unreadableFrameMessage(name: string, event: FrameErrorEvent): string {
  const { reason, message } = event.error;
  const state = reason === 'CHUNK_MISSING' ? 'is incomplete' : reason === 'TABLE_TOO_LARGE' ? 'is larger than this reader accepts' : 'is corrupt';
  const why = message.replace(/;? *the table reads as a miss until it is cached again$/, '');
  return `data frame ${name} ${state} (${why}); it reads as a miss. Delete it with \`finrisk-cache delete-df ${name}\`, then cache it again with cache-df`;
}

/** The `error` member of a command's JSON for an unreadable table. */
export function unreadableFrameJson(event: FrameErrorEvent): { code: string; reason: string; message: string } {
  return { code: event.error.code, reason: event.error.reason, message: event.error.message };
}
