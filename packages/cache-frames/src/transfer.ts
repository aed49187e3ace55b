import { timerMs } from './frame-options.js';

/** Progress of one table transfer, reported after each chunk and once at the end. */
export interface FrameProgress {
  /** `write` for cacheDataFrame and stage, `read` for getCachedDataFrame. */
  operation: 'write' | 'read';
  /** The table's name. */
  table: string;
  /** Chunk bytes moved so far, as stored (after compression, if any). */
  bytes: number;
  /**
   * Chunk bytes of the whole transfer. A write knows it only once its last column is encoded
   * (columns are encoded while earlier ones are being sent): undefined until then.
   */
  totalBytes: number | undefined;
  /** Rows moved so far: cells moved divided by the number of columns, so it ends at `totalRows`. */
  rows: number;
  /** Rows of the table (of the columns read). */
  totalRows: number;
  /** Chunks moved so far. */
  chunks: number;
  /** Chunks of the whole transfer; undefined like `totalBytes`. */
  totalChunks: number | undefined;
  /** Milliseconds since the transfer started. */
  elapsedMs: number;
  /** True on the last report of a transfer that completed. */
  done: boolean;
}

/** A function told how a transfer goes; what it throws aborts the transfer and is thrown to the caller. */
export type FrameProgressListener = (progress: FrameProgress) => void;

const MIB = 1024 * 1024;

/**
 * The chunk commands of one table in flight: at most `limitBytes` of chunks at once (one chunk
 * always goes, however big), each with a deadline that grows with the bytes it waits behind.
 * One deadline for a whole table (or a 16 MiB pipeline) is what made big tables fail on a slow
 * link or a busy server: a window of single-chunk commands lets the table go as fast as the link,
 * and fail only when the link carries less than 1 MiB per `msPerMiB`.
 */
export class TransferWindow {
  readonly #limitBytes: () => number;
  readonly #baseMs: number;
  readonly #msPerMiB: number;
  #inFlight = 0;
  #waiters: (() => void)[] = [];

  /**
   * @param limitBytes most chunk bytes in flight, asked at each chunk (a cluster's masters are known once connected)
   * @param baseMs the deadline of a command carrying nothing (the cache's `commandTimeoutMs`)
   * @param msPerMiB deadline added per MiB in flight, this chunk's included
   */
  constructor(limitBytes: () => number, baseMs: number, msPerMiB: number) {
    this.#limitBytes = limitBytes;
    this.#baseMs = baseMs;
    this.#msPerMiB = msPerMiB;
  }

  /**
   * Waits for room for `bytes` and takes it; resolves to the deadline of the chunk's command, in
   * ms: `baseMs` plus `msPerMiB` for every MiB in flight with it, since a command on a shared
   * connection is answered after those written before it; never more than a timer can wait.
   */
  async acquire(bytes: number): Promise<number> {
    while (this.#inFlight > 0 && this.#inFlight + bytes > this.#limitBytes()) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#inFlight += bytes;
    return timerMs(this.#baseMs + (this.#msPerMiB * this.#inFlight) / MIB);
  }

  /** Gives back the room of a chunk whose command settled. */
  release(bytes: number): void {
    this.#inFlight -= bytes;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Counts a transfer's progress and tells the listener, if any. */
export class ProgressMeter {
  readonly #listener: FrameProgressListener | undefined;
  readonly #start = performance.now();
  readonly #base: Pick<FrameProgress, 'operation' | 'table' | 'totalRows'>;
  readonly #columns: number;
  #bytes = 0;
  #cells = 0;
  #chunks = 0;
  totalBytes: number | undefined;
  totalChunks: number | undefined;

  constructor(listener: FrameProgressListener | undefined, operation: FrameProgress['operation'], table: string, totalRows: number, columns: number) {
    this.#listener = listener;
    this.#base = { operation, table, totalRows };
    this.#columns = Math.max(1, columns);
  }

  /** A chunk of `rows` rows and `bytes` bytes was moved. */
  chunk(bytes: number, rows: number): void {
    this.#bytes += bytes;
    this.#cells += rows;
    this.#chunks++;
    this.#report(false);
  }

  /** The transfer completed. */
  done(): void {
    this.totalBytes = this.#bytes;
    this.totalChunks = this.#chunks;
    this.#report(true);
  }

  #report(done: boolean): void {
    if (!this.#listener) return;
    this.#listener({
      ...this.#base,
      bytes: this.#bytes,
      totalBytes: this.totalBytes,
      rows: Math.floor(this.#cells / this.#columns),
      chunks: this.#chunks,
      totalChunks: this.totalChunks,
      elapsedMs: performance.now() - this.#start,
      done,
    });
  }
}
