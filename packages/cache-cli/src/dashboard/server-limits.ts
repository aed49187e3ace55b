/**
 * What the dashboard's HTTP side lets clients cost it: how many requests read Redis at once, how
 * many bytes wait for slow clients, and how long an event stream may go unread. The README's
 * dashboard section and SECURITY.md give these numbers; tests pass smaller ones.
 */
export interface ServerLimits {
  /** Requests that read Redis on demand (customer lookups, frame lists, previews) served at once. @default 2 */
  expensiveInFlight: number;
  /** Such requests waiting for a turn; one more gets 503 with Retry-After. @default 8 */
  expensiveQueue: number;
  /** Longest such a request waits for its turn, in ms, before 503 with Retry-After. @default 30000 */
  expensiveWaitMs: number;
  /**
   * Bytes written for clients and not yet taken by them, over every response and event stream:
   * a response larger than {@link ServerLimits.smallResponseBytes} that would pass it gets 503
   * with Retry-After (after event streams that do not read are cut to make room). @default 67108864 (64 MiB)
   */
  pendingBytes: number;
  /** Responses up to this size (the page's own files, errors, small answers) are never refused for the budget above, in bytes. @default 65536 */
  smallResponseBytes: number;
  /** Longest a response may wait for its client to take it, in ms; the connection is then cut. @default 30000 */
  drainMs: number;
  /** Event streams open at once (one per page); a new one past this takes the slot of the least useful one. @default 32 */
  eventStreams: number;
  /** Bytes of events a stream may leave unread past its first state; it is then cut. @default 1048576 (1 MiB) */
  streamPendingBytes: number;
  /** Longest a stream's client may leave bytes unread without taking any, in ms; it is then cut. @default 10000 */
  streamStallMs: number;
}

/** The limits `finrisk-cache dashboard` runs with. */
export const SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  expensiveInFlight: 2,
  expensiveQueue: 8,
  expensiveWaitMs: 30_000,
  pendingBytes: 64 * 1024 * 1024,
  smallResponseBytes: 64 * 1024,
  drainMs: 30_000,
  eventStreams: 32,
  streamPendingBytes: 1024 * 1024,
  streamStallMs: 10_000,
});

/** Seconds a client is told to wait (Retry-After) when the dashboard is busy. */
export const RETRY_AFTER_SECONDS = 2;
