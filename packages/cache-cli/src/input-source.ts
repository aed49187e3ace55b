import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { CommandContext } from './command-context.js';
import { CliError } from './errors.js';

/**
 * Input named on the command line: a path, `-` for standard input, or (for JSON values) `@path`.
 * Files must be regular files and input has a size bound, so that a FIFO, a device or an endless
 * pipe can neither block the process nor take its memory.
 */

/** `path` as the user typed it, and resolved when that differs: `data/x.csv (/home/me/data/x.csv)`. */
export function shownPath(typed: string, full: string): string {
  return full === typed ? typed : `${typed} (${full})`;
}

/** What a file is when it is not a regular file. */
export function fileType(stat: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isSocket(): boolean }): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (a pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** A file error (missing, unreadable, not a regular file, too large) naming the user's path: E_FILE, exit 2. */
export function fileError(error: unknown, shown: string): CliError {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new CliError('E_FILE', `file not found: ${shown}`, { cause: error });
  return new CliError('E_FILE', `cannot read ${shown}: ${(error as Error).message}`, { cause: error });
}

/**
 * Checks that a file named for reading is there and is a regular file, with the asynchronous
 * stat (see {@link openRegularFile}); returns its size. The reader checks again as it opens it.
 * `pipeHint` follows the refusal of a FIFO, a device or a socket.
 */
export async function regularFileSize(full: string, shown: string, pipeHint: string): Promise<number> {
  let found;
  try {
    found = await stat(full);
  } catch (error) {
    throw fileError(error, shown);
  }
  if (!found.isFile()) {
    const streamLike = found.isFIFO() || found.isCharacterDevice() || found.isSocket();
    throw new CliError('E_FILE', `${shown} is ${fileType(found)}, not a regular file${streamLike ? `; ${pipeHint}` : ''}`);
  }
  return found.size;
}

/**
 * Opens a regular file for reading, at most `maxBytes` long. O_NONBLOCK, and the asynchronous
 * fstat: opening a FIFO must not block, and Node 20's synchronous stat of a FIFO breaks the lazy
 * imports that follow it (nodejs/node#51142).
 */
async function openRegularFile(full: string, shown: string, maxBytes: number): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(full, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fileError(error, shown);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new CliError('E_FILE', `${shown} is ${fileType(stat)}, not a regular file; pipe it to standard input with - instead`);
    if (stat.size > maxBytes) throw tooLarge(shown, stat.size, maxBytes);
    return { handle, size: stat.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

function tooLarge(shown: string, size: number | undefined, maxBytes: number): CliError {
  return new CliError('E_FILE', `${shown} is ${size === undefined ? 'larger than' : `${size} bytes, over`} the limit of ${maxBytes} bytes`);
}

/**
 * The pieces of standard input, as bytes. Refuses a terminal (nothing was piped in: waiting for
 * typing is never what a script wants). Stops at once when `signal` aborts (SIGTERM, SIGINT), so
 * a pipe whose writer never finishes cannot keep the process alive.
 */
export async function* stdinPieces(ctx: CommandContext, what: string): AsyncGenerator<Uint8Array> {
  const stdin = ctx.io.stdin;
  if (!stdin) throw new CliError('E_USAGE', `${what}: standard input is not available here`);
  if (stdin.isTTY) {
    throw new CliError('E_USAGE', `${what} is - (standard input), but standard input is a terminal; pipe the data in, e.g. cat data.csv | finrisk-cache ...`);
  }
  const signal = ctx.io.signal;
  const iterator = stdin[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new CliError('E_BAD_INPUT', `${what}: interrupted before standard input ended; nothing was stored`));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) stdin.destroy?.();
    else void iterator.return?.();
  }
}

/**
 * The text of a JSON value given on the command line: the argument itself, `-` for standard
 * input, or `@path` for a file (the kernel caps one argument at 128 KiB, so large values come
 * this way). At most `maxBytes` are read; the text must be UTF-8.
 */
export async function jsonArgumentText(
  ctx: CommandContext, raw: string, what: string, maxBytes: number,
): Promise<{ text: string; source: string; fromArgument: boolean }> {
  if (raw !== '-' && !raw.startsWith('@')) return { text: raw, source: what, fromArgument: true };
  let label: string;
  let pieces: AsyncIterable<Uint8Array>;
  let handle: FileHandle | undefined;
  if (raw === '-') {
    label = 'standard input';
    pieces = stdinPieces(ctx, what);
  } else {
    const typed = raw.slice(1);
    if (typed === '') throw new CliError('E_USAGE', `${what}: @ must be followed by a file name, e.g. @prediction.json`);
    const full = ctx.resolvePath(typed);
    label = shownPath(typed, full);
    handle = (await openRegularFile(full, label, maxBytes)).handle;
    pieces = piecesOf(handle);
  }
  const source = `${what} in ${label}`;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parts: string[] = [];
  let total = 0;
  try {
    for await (const piece of pieces) {
      total += piece.byteLength;
      if (total > maxBytes) throw tooLarge(label, undefined, maxBytes);
      parts.push(decoder.decode(piece, { stream: true }));
    }
    parts.push(decoder.decode());
  } catch (error) {
    if (CliError.isInstance(error)) throw error;
    if (error instanceof TypeError) throw new CliError('E_BAD_INPUT', `${source} is not valid UTF-8 text`, { cause: error });
    throw fileError(error, label);
  } finally {
    await handle?.close().catch(() => undefined);
  }
  return { text: parts.join(''), source, fromArgument: false };
}

async function* piecesOf(handle: FileHandle): AsyncGenerator<Uint8Array> {
  for (;;) {
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) return;
    yield buffer.subarray(0, bytesRead);
  }
}
