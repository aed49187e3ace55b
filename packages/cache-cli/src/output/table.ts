import { padEnd, padStart, textWidth } from './text-width.js';

/** Options of {@link formatTable}. */
export interface TableOptions {
  /** Column titles, printed first and underlined with dashes. */
  header?: readonly string[];
  /** Indexes of columns aligned to the right (numbers). */
  alignRight?: readonly number[];
  /** Spaces between columns. @default 2 */
  gap?: number;
}

/** Formats rows as aligned columns, one line per row, without a trailing newline. */
export function formatTable(rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = options.header ? [options.header, ...rows] : rows;
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...all.map((r) => textWidth(r[i] ?? ''))));
  const gap = ' '.repeat(options.gap ?? 2);
  const right = new Set(options.alignRight ?? []);
  const line = (row: readonly string[]) =>
    widths
      .map((w, i) => {
        const cell = row[i] ?? '';
        if (right.has(i)) return padStart(cell, w);
        return i === columns - 1 ? cell : padEnd(cell, w);
      })
      .join(gap)
      .trimEnd();
  const lines = rows.map(line);
  if (options.header) lines.unshift(line(options.header), widths.map((w) => '-'.repeat(w)).join(gap));
  return lines.join('\n');
}

/** Formats label/value pairs as two aligned columns: `Hit Rate          75.00%`. */
export function formatPairs(pairs: readonly (readonly [string, string])[]): string {
  return formatTable(pairs.map(([k, v]) => [k, v]), { gap: 3 });
}
