import type { FrameProgress } from '@finrisk/cache-frames';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PROGRESS_DELAY_MS, PROGRESS_REDRAW_MS, createTransferProgress, formatElapsed, isProgressEnabled, renderStatusLine, renderTransferLine,
} from './transfer-progress.js';
import { textWidth } from './text-width.js';

const MIB = 1024 * 1024;

/** A write of 1,000,000 rows x 10 columns, 40% through, after 500 ms. */
function progress(overrides: Partial<FrameProgress> = {}): FrameProgress {
  return {
    operation: 'write', table: 'customer_data', bytes: 16 * MIB, totalBytes: 40 * MIB, rows: 400_000, totalRows: 1_000_000,
    chunks: 4, totalChunks: 10, elapsedMs: 500, done: false, ...overrides,
  };
}

describe('renderTransferLine', () => {
  it('shows label, bar, percent, rows, MiB, both rates and the elapsed time on a wide terminal', () => {
    const line = renderTransferLine(progress(), 200);
    expect(line).toBe(
      'Caching customer_data  [############------------------]   40%  400k/1.00M rows  16.0/40.0 MiB  32.0 MiB/s  800k rows/s  0.5s',
    );
  });

  it('names a read Reading, and takes the label it is given', () => {
    expect(renderTransferLine(progress({ operation: 'read' }), 200)).toMatch(/^Reading customer_data {2}\[/);
    expect(renderTransferLine(progress(), 200, 'Caching t1')).toMatch(/^Caching t1 {2}\[/);
  });

  it('counts below 10,000 in full, and larger ones in three digits', () => {
    expect(renderTransferLine(progress({ rows: 1234, totalRows: 9999 }), 200)).toContain('1,234/9,999 rows');
    expect(renderTransferLine(progress({ rows: 12_345, totalRows: 98_765_432 }), 200)).toContain('12.3k/98.8M rows');
    expect(renderTransferLine(progress({ rows: 999_999, totalRows: 2_500_000_000 }), 200)).toContain('1.00M/2.50G rows');
  });

  it('never exceeds the width less one column, and keeps what matters most as it narrows', () => {
    const p = progress();
    for (let width = 1; width <= 200; width++) {
      const line = renderTransferLine(p, width);
      expect(textWidth(line), `width ${width}: ${line}`).toBeLessThanOrEqual(Math.max(1, width - 1));
    }
    // 80 columns: the label and the slowest-changing parts give way; the numbers and a bar stay.
    const at80 = renderTransferLine(p, 80);
    expect(at80).toMatch(/^(Caching {2})?\[[#-]{10,30}\] +40% {2}400k\/1\.00M rows {2}16\.0\/40\.0 MiB {2}32\.0 MiB\/s/);
    const at40 = renderTransferLine(p, 40);
    expect(at40).toBe('40%  400k/1.00M rows  16.0/40.0 MiB');
    expect(renderTransferLine(p, 10)).toBe('40%');
    expect(renderTransferLine(p, 4)).toBe('40…');
  });

  it('a write that does not know its total bytes yet shows the bytes so far, and the percentage from the rows', () => {
    const line = renderTransferLine(progress({ totalBytes: undefined, totalChunks: undefined }), 200);
    expect(line).toContain('  16.0 MiB  ');
    expect(line).not.toContain('/40.0');
    expect(line).toContain(' 40%');
  });

  it('an empty table has no bar until done, and then shows 100%', () => {
    const empty = progress({ bytes: 0, totalBytes: undefined, rows: 0, totalRows: 0, chunks: 0, totalChunks: undefined });
    const line = renderTransferLine(empty, 200);
    expect(line).not.toContain('[');
    expect(line).not.toContain('%');
    expect(line).toContain('0/0 rows');
    expect(renderTransferLine({ ...empty, totalBytes: 0, done: true }, 200)).toContain('[##############################]  100%');
  });

  it('falls back to the bytes for the percentage when there are no rows to count', () => {
    expect(renderTransferLine(progress({ rows: 0, totalRows: 0, bytes: MIB, totalBytes: 4 * MIB }), 200)).toContain(' 25%');
  });

  it('shows no rate at zero elapsed time (no Infinity, no NaN)', () => {
    const line = renderTransferLine(progress({ elapsedMs: 0, bytes: 0, rows: 0 }), 200);
    expect(line).not.toMatch(/\/s|Infinity|NaN/);
    expect(line).toContain('0/1.00M rows');
    expect(line).toContain('0.0s');
  });

  it('escapes control characters in the label, so a name cannot move the cursor', () => {
    expect(renderTransferLine(progress(), 200, 'Caching a\u001b[2Jb')).toContain('Caching a\\u001b[2Jb');
  });
});

describe('renderStatusLine and formatElapsed', () => {
  it('shows the label and the time since', () => {
    expect(renderStatusLine('Reading data/x.csv', 1234, 80)).toBe('Reading data/x.csv  1.2s');
    expect(renderStatusLine('Reading data/a-very-long-file-name.csv', 1234, 20)).toBe('Reading data/a-ver…');
  });

  it('formats seconds, minutes and hours', () => {
    expect(formatElapsed(0)).toBe('0.0s');
    expect(formatElapsed(59_940)).toBe('59.9s');
    expect(formatElapsed(65_000)).toBe('1m05s');
    expect(formatElapsed(7_380_000)).toBe('2h03m');
  });
});

describe('isProgressEnabled', () => {
  const tty = { write() {}, isTTY: true };
  const base = { stream: tty, env: {}, json: false, requested: true };

  it('is on for a terminal only', () => {
    expect(isProgressEnabled(base)).toBe(true);
    expect(isProgressEnabled({ ...base, stream: { write() {} } })).toBe(false);
    expect(isProgressEnabled({ ...base, stream: { write() {} }, isTTY: true })).toBe(true);
    expect(isProgressEnabled({ ...base, isTTY: false })).toBe(false);
  });

  it('is off with --no-progress, --json, TERM=dumb or in CI; NO_COLOR does not matter', () => {
    expect(isProgressEnabled({ ...base, requested: false })).toBe(false);
    expect(isProgressEnabled({ ...base, json: true })).toBe(false);
    expect(isProgressEnabled({ ...base, env: { TERM: 'dumb' } })).toBe(false);
    expect(isProgressEnabled({ ...base, env: { CI: 'true' } })).toBe(false);
    expect(isProgressEnabled({ ...base, env: { CI: 'false' } })).toBe(true);
    expect(isProgressEnabled({ ...base, env: { TERM: 'xterm-256color', NO_COLOR: '1' } })).toBe(true);
  });
});

describe('createTransferProgress', () => {
  let clock = 0;
  let written = '';
  const stream = { write: (s: string) => (written += s), isTTY: true, columns: 200 };
  const draws = () => written.split('\r').filter((s) => s !== '' && s !== '\u001b[K').length;

  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
    written = '';
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const advance = (ms: number) => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };

  it('draws nothing for a transfer that ends within the delay', () => {
    const line = createTransferProgress(stream, { enabled: true, now: () => clock });
    line.status('Caching t');
    line.onProgress(progress({ elapsedMs: 100 }));
    advance(PROGRESS_DELAY_MS - 1);
    line.onProgress(progress({ rows: 1_000_000, bytes: 40 * MIB, done: true }));
    line.stop();
    advance(10 * PROGRESS_DELAY_MS);
    expect(written).toBe('');
  });

  it('gives each step its own delay until the line shows', () => {
    const line = createTransferProgress(stream, { enabled: true, now: () => clock });
    line.status('Reading data.csv');
    advance(PROGRESS_DELAY_MS - 1);
    line.status('Caching t');
    advance(PROGRESS_DELAY_MS - 1);
    expect(written).toBe('');
    advance(1);
    expect(written).toBe('\rCaching t  0.3s\u001b[K');
    // Once shown, the line stays through the next step.
    line.status('Writing out.csv');
    advance(PROGRESS_REDRAW_MS);
    expect(written).toMatch(/\rWriting out\.csv {2}0\.1s\u001b\[K$/);
    line.stop();
  });

  it('appears after the delay, redraws at most every 100 ms, and erases itself when stopped', () => {
    const line = createTransferProgress(stream, { enabled: true, now: () => clock });
    line.status('Caching t');
    advance(PROGRESS_DELAY_MS);
    expect(written).toBe('\rCaching t  0.3s\u001b[K');
    // A report every millisecond for a second: ten redraws or so, not a thousand.
    for (let ms = 1; ms <= 1000; ms++) {
      line.onProgress(progress({ rows: ms * 100, elapsedMs: ms }));
      advance(1);
    }
    expect(draws()).toBeGreaterThanOrEqual(1000 / PROGRESS_REDRAW_MS);
    expect(draws()).toBeLessThanOrEqual(1000 / PROGRESS_REDRAW_MS + 2);
    expect(written).toContain('\rCaching t  [');
    expect(written).toMatch(/100k\/1\.00M rows {2}16\.0\/40\.0 MiB {2}12\.3 MiB\/s {2}76\.9k rows\/s {2}1\.3s\u001b\[K$/);
    line.stop();
    expect(written.endsWith('\r\u001b[K')).toBe(true);
    const length = written.length;
    advance(1000);
    line.stop();
    expect(written.length).toBe(length);
  });

  it('draws the last report of a transfer at once, with the time the transfer took', () => {
    const line = createTransferProgress(stream, { enabled: true, now: () => clock });
    line.status('Reading t');
    advance(PROGRESS_DELAY_MS);
    advance(PROGRESS_REDRAW_MS);
    line.onProgress(progress({ operation: 'read', rows: 1_000_000, bytes: 40 * MIB, done: true }));
    expect(written).toMatch(/\rReading t {2}\[#{30}\] {2}100% {2}1\.00M\/1\.00M rows {2}40\.0\/40\.0 MiB {2}100\.0 MiB\/s {2}2\.50M rows\/s {2}0\.4s\u001b\[K$/);
    // Decoding the table afterwards does not lower the rate shown.
    advance(1000);
    expect(written).toMatch(/100\.0 MiB\/s {2}2\.50M rows\/s {2}0\.4s\u001b\[K$/);
    line.stop();
  });

  it('erase clears the line for a warning, and the next redraw brings it back', () => {
    const line = createTransferProgress(stream, { enabled: true, now: () => clock });
    line.status('Caching t');
    advance(PROGRESS_DELAY_MS);
    line.erase();
    expect(written.endsWith('\r\u001b[K')).toBe(true);
    advance(PROGRESS_REDRAW_MS);
    expect(written).toMatch(/\rCaching t {2}0\.4s\u001b\[K$/);
    line.stop();
  });

  it('assumes 80 columns when the terminal says 0', () => {
    const narrow = { write: (s: string) => (written += s), isTTY: true, columns: 0 };
    const line = createTransferProgress(narrow, { enabled: true, now: () => clock });
    line.onProgress(progress());
    advance(PROGRESS_DELAY_MS);
    const drawn = written.slice(1, written.indexOf('\u001b[K'));
    expect(textWidth(drawn)).toBeLessThanOrEqual(79);
    expect(drawn).toContain('400k/1.00M rows');
    line.stop();
  });

  it('writes nothing at all when disabled', () => {
    const line = createTransferProgress(stream, { enabled: false, now: () => clock });
    line.status('Caching t');
    line.onProgress(progress());
    advance(5 * PROGRESS_DELAY_MS);
    line.erase();
    line.stop();
    expect(written).toBe('');
  });
});
