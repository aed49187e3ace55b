import type { ServerResponse } from 'node:http';

/** Largest piece handed to the socket at once, in bytes. */
const SLICE_BYTES = 64 * 1024;

/**
 * One server-sent event stream to one client. Bytes go to the socket a slice at a time, the next
 * once the previous was taken: Node counts a write as pending until all of it is sent (and joins
 * buffered writes into one), so a large state event written whole would show no progress until
 * its last byte, and a slow reader could not be told from one that reads nothing. Here every
 * slice taken is progress, and what waits is counted.
 */
export class EventStreamWriter {
  /** When it opened, ms since the epoch. */
  readonly openedAt = Date.now();
  readonly #res: ServerResponse;
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #inFlight = 0;
  #progressAt = this.openedAt;
  #ending: Buffer | undefined;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  /** Bytes written and not yet taken by the client (waiting here, or in the socket). */
  get pendingBytes(): number {
    return this.#queued + this.#inFlight;
  }

  /** When the client last took a slice, or had nothing waiting, ms since the epoch. */
  get progressAt(): number {
    return this.pendingBytes === 0 ? Date.now() : this.#progressAt;
  }

  /** Queues `text` (an event, a comment) behind what is waiting. */
  write(text: string | Buffer): void {
    if (this.#isOver) return;
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    for (let at = 0; at < bytes.length; at += SLICE_BYTES) this.#queue.push(bytes.subarray(at, at + SLICE_BYTES));
    if (this.pendingBytes === 0) this.#progressAt = Date.now();
    this.#queued += bytes.length;
    this.#pump();
  }

  /** Ends the stream once what waits is taken, with `last` as its final bytes. */
  end(last = ''): void {
    if (this.#isOver) return;
    this.#ending = Buffer.from(last, 'utf8');
    this.#pump();
  }

  /** Cuts the connection, whatever waits. */
  destroy(): void {
    this.#queue.length = 0;
    this.#queued = 0;
    this.#res.destroy();
  }

  /** Ending, ended or cut: nothing more is written. */
  get #isOver(): boolean {
    return this.#ending !== undefined || this.#res.destroyed || this.#res.writableEnded;
  }

  #pump(): void {
    if (this.#inFlight > 0 || this.#res.destroyed || this.#res.writableEnded) return;
    const slice = this.#queue.shift();
    if (!slice) {
      if (this.#ending) this.#res.end(this.#ending);
      return;
    }
    this.#queued -= slice.length;
    this.#inFlight = slice.length;
    this.#res.write(slice, () => {
      this.#inFlight = 0;
      this.#progressAt = Date.now();
      this.#pump();
    });
  }
}
