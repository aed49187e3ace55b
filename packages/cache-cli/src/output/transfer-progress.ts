import type { FrameProgress, FrameProgressListener } from '@finrisk/cache-frames';
import type { CliOutputStream } from '../cli-io.js';
import { printable } from './printable.js';
import { textWidth, truncateToWidth } from './text-width.js';

/**
 * How long one step of a command (reading the file, the transfer, writing the file) lasts before
 * the progress line appears, in ms: a table that takes less shows nothing (a line drawn and
 * erased at once is only flicker).
 */
export const PROGRESS_DELAY_MS = 300;

/** Least time between two redraws of the progress line, in ms (at most 10 a second). */
export const PROGRESS_REDRAW_MS = 100;

/** Width assumed when the terminal does not say (a pty of size 0), in columns. */
const DEFAULT_COLUMNS = 80;
/** Inner width of the bar, in characters: at least this, or no bar. */
const MIN_BAR = 10;
/** Inner width of the bar, in characters: at most this, however wide the terminal. */
const MAX_BAR = 30;
const GAP = '  ';
const MIB = 1024 * 1024;

/** `\r`, the line, and erase to the end of the line (what the last, longer line left). */
const CLEAR_LINE = '\r\u001b[K';

/** What decides whether a command draws its progress line; see {@link isProgressEnabled}. */
export interface ProgressConditions {
  /** Where the line would go (stderr). */
  stream: CliOutputStream;
  /** The command's environment (`TERM`, `CI`). */
  env: Record<string, string | undefined>;
  /** Overrides the stream's own terminal detection (CliIo.isTTY). */
  isTTY?: boolean;
  /** True with `--json`. */
  json: boolean;
  /** False with `--no-progress`. */
  requested: boolean;
}

/**
 * Whether to draw a progress line: only when asked (no `--no-progress`), without `--json` (a
 * program reads the output), on a terminal (never into a pipe or a file), on a terminal that can
 * move its cursor (`TERM=dumb` cannot erase a line) and outside CI (`CI` set, as CI services do:
 * their logs keep every redraw). The line has no colour, so `NO_COLOR` changes nothing.
 */
export function isProgressEnabled(conditions: ProgressConditions): boolean {
  const { env } = conditions;
  if (!conditions.requested || conditions.json) return false;
  if (!(conditions.isTTY ?? conditions.stream.isTTY === true)) return false;
  if (env.TERM === 'dumb') return false;
  const ci = env.CI;
  return ci === undefined || ci === '' || ci === '0' || ci.toLowerCase() === 'false';
}

/** `12,345`, `123k`, `4.56M`: three significant digits from 10,000 up. */
function formatCompactCount(n: number): string {
  if (n < 10_000) return Math.floor(n).toLocaleString('en-US');
  for (const [unit, size] of [['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) {
    if (n >= size * 0.9995) {
      const value = n / size;
      return `${value >= 99.95 ? Math.round(value) : value >= 9.995 ? value.toFixed(1) : value.toFixed(2)}${unit}`;
    }
  }
  return String(Math.floor(n));
}

/** MiB with one decimal, none from 1,000 MiB up: `0.0`, `38.4`, `4096`. */
function formatMiB(bytes: number): string {
  const mib = bytes / MIB;
  return mib >= 999.95 ? String(Math.round(mib)) : mib.toFixed(1);
}

/** `0.4s`, `12.3s`, `1m05s`, `2h03m`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 59.95) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** How far a transfer is, 0 to 1; undefined when nothing says (no rows and no byte total). */
function ratioOf(progress: FrameProgress): number | undefined {
  if (progress.done) return 1;
  if (progress.totalRows > 0) return Math.min(1, progress.rows / progress.totalRows);
  if (progress.totalBytes !== undefined && progress.totalBytes > 0) return Math.min(1, progress.bytes / progress.totalBytes);
  return undefined;
}

/** The label of a transfer when the caller gives none: `Caching NAME` or `Reading NAME`. */
export function transferLabel(progress: Pick<FrameProgress, 'operation' | 'table'>): string {
  return `${progress.operation === 'write' ? 'Caching' : 'Reading'} ${progress.table}`;
}

/** Columns the line may take: one less than the terminal, as writing the last column wraps some terminals. */
function usable(width: number): number {
  return Math.max(1, Math.floor(width) - 1);
}

/**
 * One line of a table transfer, at most `width - 1` columns wide:
 *
 * `Caching customer_data [############------------------]  40%  400k/1.00M rows  15.3/38.1 MiB  30.6 MiB/s  800k rows/s  0.5s`
 *
 * The bar and the percentage need a total (the rows, or the bytes of an empty table); MiB show
 * `done/total` once the total is known (a write knows it only after encoding its last column);
 * the rates need some elapsed time. The parts get the room in the order percentage, rows, MiB,
 * MiB/s, bar (10 to 30 characters inside), rows/s, elapsed time, label (shortened to its verb
 * when the whole does not fit), so on a narrow terminal the label goes first and the percentage
 * and rows last; when not even those fit whole, they are cut to the width. Pure: the same
 * progress and width always give the same text.
 */
export function renderTransferLine(progress: FrameProgress, width: number, label = transferLabel(progress)): string {
  const room = usable(width);
  const ratio = ratioOf(progress);
  const seconds = progress.elapsedMs / 1000;
  const rows = `${formatCompactCount(progress.rows)}/${formatCompactCount(progress.totalRows)} rows`;
  const mib = progress.totalBytes === undefined ? `${formatMiB(progress.bytes)} MiB` : `${formatMiB(progress.bytes)}/${formatMiB(progress.totalBytes)} MiB`;
  const rate = seconds > 0 ? { bytes: `${(progress.bytes / MIB / seconds).toFixed(1)} MiB/s`, rows: `${formatCompactCount(progress.rows / seconds)} rows/s` } : undefined;
  const shown = printable(label);
  const verb = shown.split(' ')[0] ?? shown;
  const percent = ratio === undefined ? undefined : `${Math.floor(ratio * 100)}%`;

  // The parts in the order they are shown, each with the forms it may take (longest first) and
  // its rank: the order in which they get the room (0 first).
  interface Part {
    rank: number;
    forms: string[];
    isBar?: boolean;
  }
  const candidates: (Part | false)[] = [
    { rank: 7, forms: verb === shown ? [shown] : [shown, verb] },
    ratio !== undefined && { rank: 4, forms: [`[${' '.repeat(MIN_BAR)}]`], isBar: true },
    percent !== undefined && { rank: 0, forms: [percent.padStart(4)] },
    { rank: 1, forms: [rows] },
    { rank: 2, forms: [mib] },
    rate !== undefined && { rank: 3, forms: [rate.bytes] },
    rate !== undefined && { rank: 5, forms: [rate.rows] },
    { rank: 6, forms: [formatElapsed(progress.elapsedMs)] },
  ];
  const parts = candidates.filter((p): p is Part => p !== false);
  const chosen = new Map<Part, string>();
  let used = 0;
  for (const part of [...parts].sort((a, b) => a.rank - b.rank)) {
    const gap = chosen.size > 0 ? GAP.length : 0;
    const form = part.forms.find((f) => used + gap + textWidth(f) <= room);
    if (form === undefined) continue;
    chosen.set(part, form);
    used += gap + textWidth(form);
  }
  // Nothing fitted whole (a terminal a few columns wide): the most important numbers, cut.
  if (chosen.size === 0) return truncateToWidth([percent, rows].filter(Boolean).join(' '), room);
  const bar = parts.find((p) => p.isBar && chosen.has(p));
  if (bar && ratio !== undefined) {
    const inner = Math.min(MAX_BAR, MIN_BAR + room - used);
    const filled = Math.round(ratio * inner);
    chosen.set(bar, `[${'#'.repeat(filled)}${'-'.repeat(inner - filled)}]`);
  }
  return parts.filter((p) => chosen.has(p)).map((p) => chosen.get(p)!).join(GAP).trimStart();
}

/** A line for work without counts (reading a file, writing one): `Reading data/x.csv  1.2s`, at most `width - 1` columns. */
export function renderStatusLine(label: string, elapsedMs: number, width: number): string {
  const room = usable(width);
  const elapsed = formatElapsed(elapsedMs);
  const shown = printable(label);
  if (textWidth(shown) + GAP.length + elapsed.length <= room) return `${shown}${GAP}${elapsed}`;
  return truncateToWidth(shown, room);
}

/** The progress line of one command; see {@link createTransferProgress}. */
export interface TransferProgress {
  /** True when it draws at all. */
  readonly enabled: boolean;
  /**
   * Shows `label` with the time spent since, until the next status or transfer report; also the
   * label of the transfer reports that follow (`Caching NAME`).
   */
  status(label: string): void;
  /** Pass as `onProgress` to cacheDataFrame or getCachedDataFrame. */
  readonly onProgress: FrameProgressListener;
  /** Erases the line for now (before a warning is printed); the next redraw brings it back. */
  erase(): void;
  /** Erases the line and stops drawing, for good: call it on success, failure and abort alike. Safe twice. */
  stop(): void;
}

/** Options of {@link createTransferProgress}. */
export interface TransferProgressOptions {
  /** Draw at all: see {@link isProgressEnabled}. */
  enabled: boolean;
  /** Time before the line first appears, in ms. @default PROGRESS_DELAY_MS (300) */
  delayMs?: number;
  /** Least time between redraws, in ms. @default PROGRESS_REDRAW_MS (100) */
  redrawMs?: number;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
}

const DISABLED: TransferProgress = { enabled: false, status() {}, onProgress() {}, erase() {}, stop() {} };

/**
 * A progress line on `stream` (stderr, so that stdout stays clean for pipes), redrawn in place
 * with `\r`. It appears once one step (a status, with the transfer that follows it) has lasted
 * `delayMs`, and stays until {@link TransferProgress.stop} erases it. It is redrawn at most
 * every `redrawMs`, from a timer, so that the elapsed time moves while a slow chunk is awaited,
 * and once more when a transfer reports `done`. The elapsed time and the rates are the command's
 * own clock since the last status, so they fall while a transfer stalls instead of freezing at
 * the last chunk's.
 */
export function createTransferProgress(stream: CliOutputStream, options: TransferProgressOptions): TransferProgress {
  if (!options.enabled) return DISABLED;
  const now = options.now ?? (() => performance.now());
  const redrawMs = options.redrawMs ?? PROGRESS_REDRAW_MS;
  let label = '';
  let since = now();
  let latest: FrameProgress | undefined;
  let frozenMs: number | undefined;
  let visible = false;
  let drawn = '';
  let stopped = false;
  let ticker: NodeJS.Timeout | undefined;
  // A second Ctrl-C ends the process at once (process.exit): the line goes with it.
  const onExit = () => {
    if (drawn) stream.write(CLEAR_LINE);
  };

  const text = () => {
    const width = stream.columns || DEFAULT_COLUMNS;
    if (!latest) return renderStatusLine(label, now() - since, width);
    return renderTransferLine({ ...latest, elapsedMs: frozenMs ?? now() - since }, width, label || transferLabel(latest));
  };
  const draw = () => {
    if (!visible || stopped) return;
    const next = text();
    if (next === drawn) return;
    drawn = next;
    stream.write(`\r${next}\u001b[K`);
  };
  const appear = () => {
    visible = true;
    process.once('exit', onExit);
    draw();
    ticker = setInterval(draw, redrawMs);
    ticker.unref?.();
  };
  const delayMs = options.delayMs ?? PROGRESS_DELAY_MS;
  let delay = setTimeout(appear, delayMs);
  delay.unref?.();

  return {
    enabled: true,
    status(next) {
      label = next;
      since = now();
      latest = undefined;
      frozenMs = undefined;
      if (visible || stopped) return;
      // Each step gets its own delay: a transfer of 50 ms after a file read of 2 s shows nothing.
      clearTimeout(delay);
      delay = setTimeout(appear, delayMs);
      delay.unref?.();
    },
    onProgress(progress) {
      latest = progress;
      if (progress.done) {
        // The transfer's time: what it took, not what the command does with the table next.
        frozenMs = now() - since;
        draw();
      }
    },
    erase() {
      if (!drawn) return;
      stream.write(CLEAR_LINE);
      drawn = '';
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(delay);
      clearInterval(ticker);
      if (visible) process.off('exit', onExit);
      if (drawn) stream.write(CLEAR_LINE);
      drawn = '';
    },
  };
}
