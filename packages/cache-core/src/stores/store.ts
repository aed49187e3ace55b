/** Names of the concrete stores. */
export type StoreBackend = 'redis' | 'memory' | 'local';

/** One entry of a batch write. */
export interface StoreEntry {
  key: string;
  value: Uint8Array;
  /** Time to live in ms; undefined keeps the entry until deleted. */
  ttlMs?: number | undefined;
}

/** Options of {@link CacheStore.set}. */
export interface StoreSetOptions {
  /** Time to live in ms; undefined keeps the entry until deleted. */
  ttlMs?: number | undefined;
  /** Write only when the key does not exist (SET NX); `set` then returns false when it did. */
  ifAbsent?: boolean;
}

/** Options of one bulk store call ({@link CacheStore.getMany}, {@link CacheStore.setMany}). */
export interface StoreCallOptions {
  /**
   * Deadline of this call in ms, for a transfer whose size the caller knows (a table's chunk):
   * the call gets at least this long. Ignored by the embedded stores, which have no network.
   * @default the store's own: `commandTimeoutMs` (plus 1 ms per 64 KiB written)
   */
  timeoutMs?: number | undefined;
}

/** What a store knows about the server (or file, or process) behind it. */
export interface StoreInfo {
  /**
   * Server version: a bare version for Redis (`7.0.15`), name and version for any other server or
   * engine (`valkey 8.0.1`, `sqlite 3.46.1`, `node 22.23.5`).
   */
  version: string;
  connectedClients: number;
  usedMemoryBytes: number;
  totalCommandsProcessed: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  /** Memory limit in bytes; 0 when there is none. */
  maxMemoryBytes: number;
  maxMemoryPolicy: string;
  evictedKeys: number;
  expiredKeys: number;
  /** Keys in the selected database (all keys, not only this SDK's). */
  keys: number;
  /** One entry per node for clustered stores. */
  nodes?: Array<{ address: string; role: string; usedMemoryBytes: number; connectedClients: number }>;
}

/**
 * The byte-level contract every store fulfils. Keys are full keys (prefix included), values are
 * opaque bytes, times are milliseconds. Stores throw FinRiskCacheError; the cache above them
 * turns failures into misses and events.
 */
export interface CacheStore {
  readonly backend: StoreBackend;
  /** Where the data is: a masked Redis address or a file path. */
  readonly location: string;
  /** Opens the connection or file. Idempotent. */
  connect(): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
  /** Values in the order of `keys`; one round trip. */
  getMany(keys: readonly string[], options?: StoreCallOptions): Promise<(Uint8Array | null)[]>;
  /** Reads a value and sets its time to live in the same step (GETEX PX): sliding expiry. */
  getAndTouch(key: string, ttlMs: number): Promise<Uint8Array | null>;
  /** Writes a value; false only when `ifAbsent` is set and the key existed. */
  set(key: string, value: Uint8Array, options?: StoreSetOptions): Promise<boolean>;
  /** Writes every entry in one round trip (not atomically). */
  setMany(entries: readonly StoreEntry[], options?: StoreCallOptions): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Deletes keys; returns how many existed. */
  delete(keys: readonly string[]): Promise<number>;
  /** Deletes `key` only if it holds exactly `value` (releasing a lock); true when deleted. */
  deleteIfEquals(key: string, value: Uint8Array): Promise<boolean>;
  /** Sets a key's time to live in ms; false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining time to live in ms: -1 for no expiry, -2 when the key does not exist (PTTL). */
  ttl(key: string): Promise<number>;
  /** Adds 1 to an integer counter (created at 0) and returns the new value; counters never expire. */
  incr(key: string): Promise<number>;
  /** Every key that starts with the literal `prefix`, in batches, without blocking the server. */
  scan(prefix: string, batchSize?: number): AsyncIterable<string[]>;
  /** Deletes every key that starts with the literal `prefix`; returns how many. */
  deleteByPrefix(prefix: string): Promise<number>;
  /** Round trip time of a no-op, in ms. */
  ping(): Promise<number>;
  info(): Promise<StoreInfo>;
  /** Releases the connection or file. Idempotent. */
  close(): Promise<void>;
}
