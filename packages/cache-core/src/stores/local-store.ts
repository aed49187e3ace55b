import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { FinRiskCacheError } from '../errors.js';
import type { CacheStore, StoreEntry, StoreInfo, StoreSetOptions } from './store.js';

// Only the parts of better-sqlite3 this store uses, so that its types are not needed to build.
interface Statement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
type DatabaseConstructor = new (path: string, options?: { timeout?: number }) => Database;

/** Options of {@link LocalStore}. */
export interface LocalStoreOptions {
  /** Path of the SQLite file; its folder is created. */
  path: string;
  /** How long a write waits for another process holding the file's lock, in ms. @default 5000 */
  busyTimeoutMs?: number;
  /** How often expired entries are purged, in ms. @default 60000 */
  purgeIntervalMs?: number;
}

let databaseConstructor: DatabaseConstructor | undefined;

/** Loads better-sqlite3 on first use, so that services on Redis never load a native module. */
function loadSqlite(): DatabaseConstructor {
  if (databaseConstructor) return databaseConstructor;
  const require = createRequire(import.meta.url);
  try {
    databaseConstructor = require('better-sqlite3') as DatabaseConstructor;
  } catch (error) {
    throw new FinRiskCacheError(
      'E_DEPENDENCY_MISSING',
      'the local store needs the optional dependency better-sqlite3 (version 12): run `npm install better-sqlite3@12`, or set CACHE_BACKEND=memory or redis',
      { cause: error },
    );
  }
  return databaseConstructor;
}

function localError(error: unknown, path: string, action: string): FinRiskCacheError {
  if (FinRiskCacheError.isInstance(error)) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? String(error);
  const hint =
    code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
      ? 'another process holds the file locked; try again, or point CACHE_LOCAL_PATH elsewhere'
      : code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'EACCES'
        ? 'the file or its folder is not writable; fix the permissions or set CACHE_LOCAL_PATH'
        : code.startsWith('SQLITE_FULL')
          ? 'the disk is full; free space or set CACHE_LOCAL_PATH to another disk'
          : code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB'
            ? 'the file is not a valid cache database; delete it (it only holds cached data) or set CACHE_LOCAL_PATH'
            : 'see the cause';
  return new FinRiskCacheError('E_LOCAL_STORE', `local store ${path}: ${action} failed (${code || message}): ${hint}`, { cause: error });
}

/**
 * The embedded store: a SQLite file (WAL mode), safe for several processes on one machine,
 * with TTLs honoured on every read. For machines without Redis.
 */
export class LocalStore implements CacheStore {
  readonly backend = 'local' as const;
  readonly location: string;
  readonly #options: LocalStoreOptions;
  #db: Database | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #statements: Record<string, Statement> = {};
  #hits = 0;
  #misses = 0;
  #commands = 0;
  #expired = 0;

  constructor(options: LocalStoreOptions) {
    this.#options = options;
    this.location = options.path;
  }

  async connect(): Promise<void> {
    this.#open();
  }

  #open(): Database {
    if (this.#closed) throw new FinRiskCacheError('E_CLOSED', 'the local store was closed');
    if (this.#db) return this.#db;
    const Sqlite = loadSqlite();
    const path = this.#options.path;
    try {
      mkdirSync(dirname(path), { recursive: true });
      const db = new Sqlite(path, { timeout: this.#options.busyTimeoutMs ?? 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`CREATE TABLE IF NOT EXISTS entries (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL,
        expires_at INTEGER
      ) WITHOUT ROWID`);
      db.exec('CREATE INDEX IF NOT EXISTS entries_expiry ON entries (expires_at) WHERE expires_at IS NOT NULL');
      const s = (sql: string) => db.prepare(sql);
      this.#statements = {
        get: s('SELECT value FROM entries WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
        ttl: s('SELECT expires_at FROM entries WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
        upsert: s('INSERT INTO entries (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at'),
        insertIfAbsent: s(`INSERT INTO entries (key, value, expires_at) VALUES (?, ?, ?)
          ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
          WHERE entries.expires_at IS NOT NULL AND entries.expires_at <= ?`),
        delete: s('DELETE FROM entries WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
        deleteAny: s('DELETE FROM entries WHERE key = ?'),
        deleteIfEquals: s('DELETE FROM entries WHERE key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)'),
        expire: s('UPDATE entries SET expires_at = ? WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
        scan: s('SELECT key FROM entries WHERE key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?'),
        scanFrom: s('SELECT key FROM entries WHERE key > ? AND key < ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?'),
        purge: s('DELETE FROM entries WHERE expires_at IS NOT NULL AND expires_at <= ?'),
        count: s('SELECT COUNT(*) AS n FROM entries WHERE expires_at IS NULL OR expires_at > ?'),
      };
      this.#db = db;
    } catch (error) {
      throw localError(error, path, 'opening');
    }
    this.#purge();
    this.#timer = setInterval(() => this.#purge(), this.#options.purgeIntervalMs ?? 60_000);
    this.#timer.unref();
    return this.#db;
  }

  #purge(): void {
    try {
      this.#expired += this.#statements.purge!.run(Date.now()).changes;
    } catch {
      // Purging is housekeeping: a busy or read-only file must not fail the caller.
    }
  }

  #do<T>(action: string, fn: (s: Record<string, Statement>, db: Database) => T): T {
    const db = this.#open();
    this.#commands++;
    try {
      return fn(this.#statements, db);
    } catch (error) {
      throw localError(error, this.location, action);
    }
  }

  #read(key: string): Uint8Array | null {
    const row = this.#do('read', (s) => s.get!.get(key, Date.now())) as { value: Buffer } | undefined;
    if (!row) {
      this.#misses++;
      return null;
    }
    this.#hits++;
    return row.value;
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.#read(key);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    return keys.map((k) => this.#read(k));
  }

  async getAndTouch(key: string, ttlMs: number): Promise<Uint8Array | null> {
    const value = this.#read(key);
    if (value) this.#do('touch', (s) => s.expire!.run(Date.now() + ttlMs, key, Date.now()));
    return value;
  }

  async set(key: string, value: Uint8Array, options: StoreSetOptions = {}): Promise<boolean> {
    const now = Date.now();
    const expiresAt = options.ttlMs === undefined ? null : now + options.ttlMs;
    return this.#do('write', (s) => {
      if (options.ifAbsent) return s.insertIfAbsent!.run(key, toBuffer(value), expiresAt, now).changes === 1;
      s.upsert!.run(key, toBuffer(value), expiresAt);
      return true;
    });
  }

  async setMany(entries: readonly StoreEntry[]): Promise<void> {
    const now = Date.now();
    this.#do('write', (s, db) =>
      db.transaction(() => {
        for (const e of entries) s.upsert!.run(e.key, toBuffer(e.value), e.ttlMs === undefined ? null : now + e.ttlMs);
      })(),
    );
  }

  async exists(key: string): Promise<boolean> {
    return this.#do('read', (s) => s.ttl!.get(key, Date.now()) !== undefined);
  }

  async delete(keys: readonly string[]): Promise<number> {
    const now = Date.now();
    return this.#do('delete', (s, db) => {
      let deleted = 0;
      db.transaction(() => {
        for (const key of keys) deleted += s.delete!.run(key, now).changes;
      })();
      return deleted;
    });
  }

  async deleteIfEquals(key: string, value: Uint8Array): Promise<boolean> {
    return this.#do('delete', (s) => s.deleteIfEquals!.run(key, toBuffer(value), Date.now()).changes === 1);
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#do('expire', (s) => s.expire!.run(Date.now() + ttlMs, key, Date.now()).changes === 1);
  }

  async ttl(key: string): Promise<number> {
    const now = Date.now();
    const row = this.#do('read', (s) => s.ttl!.get(key, now)) as { expires_at: number | null } | undefined;
    if (!row) return -2;
    return row.expires_at === null ? -1 : Math.max(0, row.expires_at - now);
  }

  async incr(key: string): Promise<number> {
    const now = Date.now();
    return this.#do('increment', (s, db) => {
      let next = 0;
      // BEGIN IMMEDIATE (a write transaction) so that two processes cannot read the same value.
      const run = db.transaction(() => {
        const row = s.get!.get(key, now) as { value: Buffer } | undefined;
        const current = row ? Number(row.value.toString('utf8')) : 0;
        if (!Number.isSafeInteger(current)) throw new FinRiskCacheError('E_REDIS_COMMAND', `value at ${key} is not an integer`);
        next = current + 1;
        const ttl = s.ttl!.get(key, now) as { expires_at: number | null } | undefined;
        s.upsert!.run(key, Buffer.from(String(next)), ttl?.expires_at ?? null);
      }) as ((...args: unknown[]) => void) & { immediate?: () => void };
      if (run.immediate) run.immediate();
      else run();
      return next;
    });
  }

  async *scan(prefix: string, batchSize = 1000): AsyncIterable<string[]> {
    // Keys with the prefix sort between the prefix and the prefix followed by the highest code point.
    const upper = `${prefix}\u{10FFFF}`;
    let after: string | undefined;
    for (;;) {
      const now = Date.now();
      const rows = this.#do('scan', (s) =>
        after === undefined ? s.scan!.all(prefix, upper, now, batchSize) : s.scanFrom!.all(after, upper, now, batchSize),
      ) as { key: string }[];
      if (rows.length === 0) return;
      const keys = rows.map((r) => r.key);
      after = keys[keys.length - 1];
      yield keys;
      if (rows.length < batchSize) return;
    }
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for await (const keys of this.scan(prefix)) deleted += await this.delete(keys);
    return deleted;
  }

  async ping(): Promise<number> {
    const start = performance.now();
    this.#do('ping', (s) => s.count!.get(Date.now()));
    return performance.now() - start;
  }

  async info(): Promise<StoreInfo> {
    const keys = (this.#do('count', (s) => s.count!.get(Date.now())) as { n: number }).n;
    let bytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        bytes += statSync(this.location + suffix).size;
      } catch {
        // the WAL file exists only while the database is open for writing
      }
    }
    return {
      version: `sqlite ${(this.#do('version', (_s, db) => db.prepare('SELECT sqlite_version() AS v').get()) as { v: string }).v}`,
      connectedClients: 1,
      usedMemoryBytes: bytes,
      totalCommandsProcessed: this.#commands,
      keyspaceHits: this.#hits,
      keyspaceMisses: this.#misses,
      maxMemoryBytes: 0,
      maxMemoryPolicy: 'noeviction',
      evictedKeys: 0,
      expiredKeys: this.#expired,
      keys,
    };
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    const db = this.#db;
    this.#db = undefined;
    try {
      db?.close();
    } catch (error) {
      throw localError(error, this.location, 'closing');
    }
  }
}

function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
