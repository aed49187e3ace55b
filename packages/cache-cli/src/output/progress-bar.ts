import type { CliOutputStream } from '../cli-io.js';

/** A progress bar on a terminal; does nothing anywhere else. */
export interface ProgressBar {
  /** Sets how far along the work is, out of `total` (or a count when the total is unknown). */
  update(done: number, total?: number): void;
  /** Changes the label in front of the bar. */
  label(text: string): void;
  /** Erases the bar. */
  done(): void;
}

/** Options of {@link createProgressBar}. */
export interface ProgressBarOptions {
  /** Draw at all: true on a terminal only. */
  enabled: boolean;
  /** Text in front of the bar. */
  label: string;
  /** Work to do, in any unit. Unknown totals show a count instead of a bar. */
  total?: number;
  /** Width of the bar in characters. @default 30 */
  width?: number;
}

const NOOP: ProgressBar = { update() {}, label() {}, done() {} };

/**
 * A one-line progress bar redrawn with `\r` on `stream` (stderr, so that stdout stays clean for
 * pipes). Redraws at most when the shown percentage changes.
 */
export function createProgressBar(stream: CliOutputStream, options: ProgressBarOptions): ProgressBar {
  if (!options.enabled) return NOOP;
  const width = options.width ?? 30;
  let label = options.label;
  let total = options.total;
  let last = '';
  let drawn = false;
  const draw = (done: number) => {
    let text: string;
    if (total && total > 0) {
      const ratio = Math.min(1, done / total);
      const filled = Math.round(ratio * width);
      text = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}%`;
    } else {
      text = `${label} ${done}`;
    }
    if (text === last) return;
    last = text;
    drawn = true;
    stream.write(`\r${text}\u001b[K`);
  };
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      draw(done);
    },
    label(text) {
      label = text;
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
      drawn = false;
    },
  };
}
