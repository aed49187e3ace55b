import { FrameError } from './errors.js';

/** How a delimited text file is laid out, detected on read and reused on write. */
export interface CsvDialect {
  /** Field separator: `,` for CSV, a tab for TSV. */
  delimiter: string;
  /** Line ending: `\n`, `\r\n`, or a lone `\r` (classic Mac OS exports). @default '\n' */
  newline: '\n' | '\r\n' | '\r';
  /** Whether the last record ends with a line ending. @default true */
  trailingNewline: boolean;
}

/** The parsed cells of a delimited file, column by column. */
export interface ParsedCsv {
  header: string[];
  /** `columns[c][r]`: the text of a cell, or null for an empty unquoted cell. `""` gives ''. */
  columns: (string | null)[][];
  dialect: CsvDialect;
}

const QUOTE = 34, CR = 13, LF = 10;

/**
 * An RFC 4180 parser that keeps what arquero's parseCSV does not: the exact text of each cell
 * (so `00123` stays `00123`), empty unquoted cells as null and `""` as an empty string, and
 * errors that name the row and line. Throws FrameError FILE_EMPTY, CSV_RAGGED or CSV_QUOTE.
 */
export function parseCsv(text: string, delimiter: string, path: string): ParsedCsv {
  const delim = delimiter.charCodeAt(0);
  const n = text.length;
  if (text.trim().length === 0) throw new FrameError('FILE_EMPTY', `${path} is empty: a table file needs at least a header row`, { path });
  let header: string[] | undefined;
  let columns: (string | null)[][] = [];
  let newline: '\n' | '\r\n' | '\r' | undefined;
  let row: (string | null)[] = [];
  let record = 0; // records seen, the header being record 0
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let trailingNewline = false;

  const endRecord = () => {
    if (!header) {
      header = row.map((c) => c ?? '');
      const seen = new Set<string>();
      for (const name of header) {
        if (seen.has(name)) throw new FrameError('FILE_FORMAT', `${path}: the header names column ${JSON.stringify(name)} twice`, { path, row: 0, line: recordLine });
        seen.add(name);
      }
      columns = header.map(() => []);
    } else {
      if (row.length !== header.length) {
        throw new FrameError(
          'CSV_RAGGED',
          `${path}: row ${record} (line ${recordLine}) has ${row.length} field${row.length === 1 ? '' : 's'}, the header has ${header.length}`,
          { path, row: record, line: recordLine },
        );
      }
      for (let c = 0; c < row.length; c++) columns[c]!.push(row[c]!);
    }
    record++;
    row = [];
  };

  while (i <= n) {
    // One field.
    let value: string | null;
    if (i < n && text.charCodeAt(i) === QUOTE) {
      const openLine = line;
      let out = '';
      let start = ++i;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          throw new FrameError('CSV_QUOTE', `${path}: row ${record} (line ${openLine}) opens a quoted field that is never closed`, { path, row: record, line: openLine });
        }
        for (let k = i; k < q; k++) if (text.charCodeAt(k) === LF) line++;
        if (text.charCodeAt(q + 1) === QUOTE) {
          out += text.slice(start, q + 1);
          i = start = q + 2;
          continue;
        }
        out += text.slice(start, q);
        i = q + 1;
        break;
      }
      // Text after a closing quote up to the delimiter is kept, as most readers do.
      let j = i;
      while (j < n) {
        const ch = text.charCodeAt(j);
        if (ch === delim || ch === LF || ch === CR) break;
        j++;
      }
      value = out + text.slice(i, j);
      i = j;
    } else {
      let j = i;
      while (j < n) {
        const ch = text.charCodeAt(j);
        if (ch === delim || ch === LF || ch === CR) break;
        j++;
      }
      value = j === i ? null : text.slice(i, j);
      i = j;
    }
    row.push(value);
    if (i >= n) {
      // End of text: the last record, unless the text ended with a line ending (already handled).
      if (!(row.length === 1 && row[0] === null && trailingNewline)) endRecord();
      break;
    }
    const ch = text.charCodeAt(i);
    if (ch === delim) {
      i++;
      trailingNewline = false;
      continue;
    }
    // A line ending.
    const crlf = ch === CR && text.charCodeAt(i + 1) === LF;
    // Blank lines at the end of a file of several columns are no record (one empty field could
    // not fit the header): the file ends with its last record. With one column, a blank line is
    // a null cell, as this package writes it.
    if (header && header.length > 1 && row.length === 1 && row[0] === null && onlyLineEndings(text, i)) {
      trailingNewline = true;
      row = [];
      break;
    }
    newline ??= crlf ? '\r\n' : ch === CR ? '\r' : '\n';
    i += crlf ? 2 : 1;
    line++;
    endRecord();
    recordLine = line;
    trailingNewline = i >= n;
    if (i >= n) break;
  }
  if (!header) throw new FrameError('FILE_EMPTY', `${path} has no header row`, { path });
  return { header, columns, dialect: { delimiter, newline: newline ?? '\n', trailingNewline } };
}

/** True when `text` from `from` on holds only line endings. */
function onlyLineEndings(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch !== LF && ch !== CR) return false;
  }
  return true;
}

/** Quotes a cell when it must be: it holds the delimiter, a quote, a line break, or is the empty string. */
export function quoteCell(text: string, delimiter: string): string {
  if (text === '') return '""';
  if (text.includes(delimiter) || text.includes('"') || text.includes('\n') || text.includes('\r')) return `"${text.replaceAll('"', '""')}"`;
  return text;
}
