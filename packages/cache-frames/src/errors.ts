import { FinRiskCacheError, type CacheErrorCode } from '@finrisk/cache-core';

/**
 * Why a table file or a table could not be used. Stable across versions, like the core codes:
 *
 * | reason | core `code` | thrown when |
 * |---|---|---|
 * | `FILE_NOT_FOUND` | E_FILE | the file to read does not exist |
 * | `FILE_UNREADABLE` | E_FILE | the file exists but cannot be read (permissions) |
 * | `FILE_UNWRITABLE` | E_FILE | the file cannot be written (permissions, no such folder, a full disk) |
 * | `FILE_NOT_REGULAR` | E_FILE | the path is a FIFO, a device, a socket or a directory, not a regular file |
 * | `FILE_EXISTS` | E_FILE | the file to write exists and `overwrite` is false |
 * | `FILE_TOO_LARGE` | E_FILE | the file or stream is larger than `maxBytes` |
 * | `FILE_EMPTY` | E_FILE | the file has no bytes, or no header row |
 * | `FILE_ENCODING` | E_FILE | the text is not valid UTF-8 (the message names the byte offset and line) |
 * | `FILE_FORMAT` | E_FILE | the extension or `format` is unknown, or the content is not of that format |
 * | `CSV_RAGGED` | E_FILE | a CSV/TSV row has more or fewer fields than the header (names the row and line) |
 * | `CSV_QUOTE` | E_FILE | a quoted CSV field is never closed (names the row and line) |
 * | `COLUMN_TYPE` | E_INVALID_VALUE | a value does not fit its column type (names the column and row) |
 * | `TABLE_NAME` | E_INVALID_KEY | a table name is empty, too long, or contains `*`, `?`, `[`, `]`, `/`, `\` or control characters |
 * | `TABLE_TOO_LARGE` | E_PAYLOAD_TOO_LARGE | the encoded table exceeds `maxTableBytes`, or a chunk `maxValueBytes`; (as an error event) a manifest claims more than this reader's `maxTableBytes` |
 * | `NOT_A_TABLE` | E_INVALID_VALUE | the value given to cache is not an arquero table |
 * | `UNKNOWN_COLUMN` | E_INVALID_VALUE | a requested column is not in the cached table |
 * | `CHUNK_MISSING` | E_PAYLOAD_CORRUPT | (error events only) a chunk named by the manifest is gone |
 * | `CHUNK_CORRUPT` | E_PAYLOAD_CORRUPT | (error events only) a chunk fails its size or checksum, inflates past its manifest's size, or does not decode |
 * | `MANIFEST_CORRUPT` | E_PAYLOAD_CORRUPT | (error events only) a manifest is not one this package could have written (a count out of range, sums that do not add up) |
 *
 * Before 0.2 the file reasons had the code E_INVALID_VALUE; the reasons themselves are unchanged.
 */
export type FrameErrorReason =
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'FILE_UNWRITABLE'
  | 'FILE_NOT_REGULAR'
  | 'FILE_EXISTS'
  | 'FILE_TOO_LARGE'
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
  FILE_NOT_FOUND: 'E_FILE',
  FILE_UNREADABLE: 'E_FILE',
  FILE_UNWRITABLE: 'E_FILE',
  FILE_NOT_REGULAR: 'E_FILE',
  FILE_EXISTS: 'E_FILE',
  FILE_TOO_LARGE: 'E_FILE',
  FILE_EMPTY: 'E_FILE',
  FILE_ENCODING: 'E_FILE',
  FILE_FORMAT: 'E_FILE',
  CSV_RAGGED: 'E_FILE',
  CSV_QUOTE: 'E_FILE',
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
