import { FinRiskCacheError, type CacheErrorCode } from '@finrisk/cache-core';

/**
 * Why a table file or a table could not be used. Stable across versions, like the core codes:
 *
 * | reason | core `code` | thrown when |
 * |---|---|---|
 * | `FILE_NOT_FOUND` | E_INVALID_VALUE | the file to read does not exist |
 * | `FILE_UNREADABLE` | E_INVALID_VALUE | the file exists but cannot be read or written (permissions, a directory) |
 * | `FILE_EMPTY` | E_INVALID_VALUE | the file has no bytes, or no header row |
 * | `FILE_ENCODING` | E_INVALID_VALUE | the text is not valid UTF-8 (the message names the byte offset and line) |
 * | `FILE_FORMAT` | E_INVALID_VALUE | the extension or `format` is unknown, or the content is not of that format |
 * | `CSV_RAGGED` | E_INVALID_VALUE | a CSV/TSV row has more or fewer fields than the header (names the row and line) |
 * | `CSV_QUOTE` | E_INVALID_VALUE | a quoted CSV field is never closed (names the row and line) |
 * | `COLUMN_TYPE` | E_INVALID_VALUE | a value does not fit its column type (names the column and row) |
 * | `TABLE_NAME` | E_INVALID_KEY | a table name is empty, too long, or contains `*`, `?`, `[`, `]`, `/`, `\` or control characters |
 * | `TABLE_TOO_LARGE` | E_PAYLOAD_TOO_LARGE | the encoded table exceeds `maxTableBytes` |
 * | `NOT_A_TABLE` | E_INVALID_VALUE | the value given to cache is not an arquero table |
 * | `UNKNOWN_COLUMN` | E_INVALID_VALUE | a requested column is not in the cached table |
 * | `CHUNK_MISSING` | E_PAYLOAD_CORRUPT | (error events only) a chunk named by the manifest is gone |
 * | `CHUNK_CORRUPT` | E_PAYLOAD_CORRUPT | (error events only) a chunk fails its checksum or does not decode |
 * | `MANIFEST_CORRUPT` | E_PAYLOAD_CORRUPT | (error events only) a manifest is not one this package wrote |
 */
export type FrameErrorReason =
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'FILE_EMPTY'
  | 'FILE_ENCODING'
  | 'FILE_FORMAT'
  | 'CSV_RAGGED'
  | 'CSV_QUOTE'
  | 'COLUMN_TYPE'
  | 'TABLE_NAME'
  | 'TABLE_TOO_LARGE'
  | 'NOT_A_TABLE'
  | 'UNKNOWN_COLUMN'
  | 'CHUNK_MISSING'
  | 'CHUNK_CORRUPT'
  | 'MANIFEST_CORRUPT';

const CODE_OF: Record<FrameErrorReason, CacheErrorCode> = {
  FILE_NOT_FOUND: 'E_INVALID_VALUE',
  FILE_UNREADABLE: 'E_INVALID_VALUE',
  FILE_EMPTY: 'E_INVALID_VALUE',
  FILE_ENCODING: 'E_INVALID_VALUE',
  FILE_FORMAT: 'E_INVALID_VALUE',
  CSV_RAGGED: 'E_INVALID_VALUE',
  CSV_QUOTE: 'E_INVALID_VALUE',
  COLUMN_TYPE: 'E_INVALID_VALUE',
  TABLE_NAME: 'E_INVALID_KEY',
  TABLE_TOO_LARGE: 'E_PAYLOAD_TOO_LARGE',
  NOT_A_TABLE: 'E_INVALID_VALUE',
  UNKNOWN_COLUMN: 'E_INVALID_VALUE',
  CHUNK_MISSING: 'E_PAYLOAD_CORRUPT',
  CHUNK_CORRUPT: 'E_PAYLOAD_CORRUPT',
  MANIFEST_CORRUPT: 'E_PAYLOAD_CORRUPT',
};

/** Where in a file an error was found, when it is known. */
export interface FrameErrorLocation {
  /** The file involved. */
  path?: string;
  /** 1-based data row (the header is row 0). */
  row?: number;
  /** 1-based line of the file (differs from `row + 1` when quoted fields span lines). */
  line?: number;
  /** 0-based byte offset in the file. */
  byteOffset?: number;
  /** The column involved. */
  column?: string;
}

/** Options of {@link FrameError}. */
export interface FrameErrorOptions extends FrameErrorLocation {
  /** The error this one wraps. */
  cause?: unknown;
}

/**
 * Thrown when a table, a table name or a table file cannot be used. A {@link FinRiskCacheError}
 * whose `code` is a core code (so the CLI's exit statuses keep working) and whose `reason`
 * says precisely what was wrong.
 */
export class FrameError extends FinRiskCacheError {
  override readonly name: string = 'FrameError';
  /** The precise, stable reason. */
  readonly reason: FrameErrorReason;
  /** The file involved, when there is one. */
  readonly path: string | undefined;
  /** 1-based data row, when known. */
  readonly row: number | undefined;
  /** 1-based file line, when known. */
  readonly line: number | undefined;
  /** 0-based byte offset, when known. */
  readonly byteOffset: number | undefined;
  /** The column involved, when known. */
  readonly column: string | undefined;

  constructor(reason: FrameErrorReason, message: string, options: FrameErrorOptions = {}) {
    super(CODE_OF[reason], message, options.cause === undefined ? {} : { cause: options.cause });
    this.reason = reason;
    this.path = options.path;
    this.row = options.row;
    this.line = options.line;
    this.byteOffset = options.byteOffset;
    this.column = options.column;
  }

  /** True when `error` is a FrameError (from any installed copy) with the given reason. */
  static hasReason(error: unknown, reason: FrameErrorReason): error is FrameError {
    return FinRiskCacheError.isInstance(error) && (error as { reason?: unknown }).reason === reason;
  }
}
