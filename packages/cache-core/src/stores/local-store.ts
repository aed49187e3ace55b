import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { FinRiskCacheError } from '../errors.js';
import { parsePythonJson, pythonJsonDumps } from '../python-json.js';
import { applyHashWrite, checkFieldNames, startingFields, type HashReadResult, mergeJsonObjects, packHash, readHeldFields, unpackHash, wrongType, type HashFieldWrite, type HashStore, type HashWriteOptions } from './hash-store.js';
import type { CacheStore, StoreEntry, StoreInfo, StoreSetOptions } from './store.js';

/** Options of {@link LocalStore}. */
export interface LocalStoreOptions {
  /** Path of the SQLite file; its folder is created. */
  path: string;
  /** How long a write waits for another process holding the file's lock, in ms. @default 5000 */
  busyTimeoutMs?: number;
  /** How often expired entries are purged, in ms. @default 60000 */
  purgeIntervalMs?: number;
}

type Sqlite = typeof import('node:sqlite');
let sqlite: Sqlite | undefined;

/**
 * Loads Node's built-in SQLite (node:sqlite) on first use, so that services on Redis never load
 * it. Built in, it needs no compiler, no install script and no rebuild when Node changes, which
 * better-sqlite3 (the driver of the 0.1 development versions) needed. Node 22 prints an ExperimentalWarning when the
 * module loads ("SQLite is an experimental feature"; 24 and 26 do not): an operator's terminal
 * should not show it for a cache file, so that one warning, and only while the module loads, is
 * dropped. Every other warning goes through as before.
 */
function loadSqlite(): Sqlite {
  if (sqlite) return sqlite;
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    if ((type ?? (warning as Error).name) === 'ExperimentalWarning' && text.startsWith('SQLite is an experimental feature')) return;
    return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    sqlite = process.getBuiltinModule?.('node:sqlite') as Sqlite | undefined;
  } catch {
    sqlite = undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
  if (!sqlite?.DatabaseSync) {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const why =
      major > 22 || (major === 22 && minor >= 13)
        ? `Node.js ${process.version} has it turned off (--no-experimental-sqlite, on the command line or in NODE_OPTIONS): drop that flag`
        : `Node.js ${process.version} has none without a flag: run Node.js 22.13 or later`;
    throw new FinRiskCacheError('E_DEPENDENCY_MISSING', `the local store needs Node.js's built-in node:sqlite, and ${why}; or set CACHE_BACKEND=memory or redis`);
  }
  return sqlite;
}

// SQLite's primary result codes (the low byte of an extended code), by the names SQLite gives them.
const SQLITE_CODES: Record<number, string> = {
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  26: 'SQLITE_NOTADB',
};

/** The name of an error: SQLite's (SQLITE_BUSY, ...) for node:sqlite's, else the error's own code. */
function errorName(error: unknown): string {
  const { code, errcode } = error as { code?: string; errcode?: number };
  if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') return SQLITE_CODES[errcode & 0xff] ?? `SQLITE_ERROR ${errcode}`;
  return code ?? '';
}

function localError(error: unknown, path: string, action: string): FinRiskCacheError {
  if (FinRiskCacheError.isInstance(error)) return error;
  const code = errorName(error);
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
            : `${message}; see the cause`;
  return new FinRiskCacheError('E_LOCAL_STORE', `local store ${path}: ${action} failed (${code || 'error'}): ${hint}`, { cause: error });
}

const utf8 = new TextDecoder();

/**
 * The embedded store: a SQLite file (WAL mode) through Node's built-in node:sqlite, safe for
 * several processes on one machine, with TTLs honoured on every read. For machines without Redis.
 * It opens files written by earlier versions (better-sqlite3) as they are: same table, same WAL.
 */
export class LocalStore implements CacheStore, HashStore {
  readonly backend = 'local' as const;
  readonly location: string;
  readonly #options: LocalStoreOptions;
  #db: DatabaseSync | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #statements: Record<string, StatementSync> = {};
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

  #open(): DatabaseSync {
    if (this.#closed) throw new FinRiskCacheError('E_CLOSED', 'the local store was closed');
    if (this.#db) return this.#db;
    const { DatabaseSync } = loadSqlite();
    const path = this.#options.path;
    let db: DatabaseSync | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new DatabaseSync(path);
      // The same file layout and settings as better-sqlite3's store wrote (a WAL-mode file whose
      // table is below), so files of earlier versions open as they are.
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(this.#options.busyTimeoutMs ?? 5000))}`);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec(`CREATE TABLE IF NOT EXISTS entries (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL,
        expires_at INTEGER
      ) WITHOUT ROWID`);
      db.exec('CREATE INDEX IF NOT EXISTS entries_expiry ON entries (expires_at) WHERE expires_at IS NOT NULL');
      const s = (sql: string) => db!.prepare(sql);
      this.#statements = {
        get: s('SELECT value FROM entries WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
        getRow: s('SELECT value, expires_at FROM entries WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
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
      try {
        db?.close();
      } catch {
        // the file failed to open; the error that says why is the one thrown below
      }
      throw localError(error, path, 'opening');
    }
    this.#purge();
    this.#timer = setInterval(() => this.#purge(), this.#options.purgeIntervalMs ?? 60_000);
    this.#timer.unref();
    return this.#db;
  }

  #purge(): void {
    try {
      this.#expired += Number(this.#statements.purge!.run(Date.now()).changes);
    } catch {
      // Purging is housekeeping: a busy or read-only file must not fail the caller.
    }
  }

  #do<T>(action: string, fn: (s: Record<string, StatementSync>, db: DatabaseSync) => T): T {
    const db = this.#open();
    this.#commands++;
    try {
      return fn(this.#statements, db);
    } catch (error) {
      throw localError(error, this.location, action);
    }
  }

  #read(key: string): Uint8Array | null {
    const row = this.#do('read', (s) => s.get!.get(key, Date.now())) as { value: Uint8Array } | undefined;
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
      if (options.ifAbsent) return Number(s.insertIfAbsent!.run(key, value, expiresAt, now).changes) === 1;
      s.upsert!.run(key, value, expiresAt);
      return true;
    });
  }

  async setMany(entries: readonly StoreEntry[]): Promise<void> {
    const now = Date.now();
    this.#do('write', (s, db) =>
      transaction(db, 'BEGIN', () => {
        for (const e of entries) s.upsert!.run(e.key, e.value, e.ttlMs === undefined ? null : now + e.ttlMs);
      }),
    );
  }

  async exists(key: string): Promise<boolean> {
    return this.#do('read', (s) => s.ttl!.get(key, Date.now()) !== undefined);
  }

  async delete(keys: readonly string[]): Promise<number> {
    const now = Date.now();
    return this.#do('delete', (s, db) => {
      let deleted = 0;
      transaction(db, 'BEGIN', () => {
        for (const key of keys) deleted += Number(s.delete!.run(key, now).changes);
      });
      return deleted;
    });
  }

  async deleteIfEquals(key: string, value: Uint8Array): Promise<boolean> {
    return this.#do('delete', (s) => Number(s.deleteIfEquals!.run(key, value, Date.now()).changes) === 1);
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#do('expire', (s) => Number(s.expire!.run(Date.now() + ttlMs, key, Date.now()).changes) === 1);
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
      transaction(db, 'BEGIN IMMEDIATE', () => {
        const row = s.get!.get(key, now) as { value: Uint8Array } | undefined;
        const current = row ? Number(utf8.decode(row.value)) : 0;
        if (!Number.isSafeInteger(current)) throw new FinRiskCacheError('E_REDIS_COMMAND', `value at ${key} is not an integer`);
        next = current + 1;
        const ttl = s.ttl!.get(key, now) as { expires_at: number | null } | undefined;
        s.upsert!.run(key, Buffer.from(String(next)), ttl?.expires_at ?? null);
      });
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

  // Hashes: a hash is one packed value of the entries table (hash-store.ts), so that delete, scan
  // and TTLs treat it like any key; each update is a write transaction (BEGIN IMMEDIATE), atomic
  // across the processes sharing the file.

  async hasFieldExpiry(): Promise<boolean> {
    return true;
  }

  /** The hash under `key` (null: no key) and the key's deadline; inside a transaction. */
  #heldHash(s: Record<string, StatementSync>, key: string, now: number, plainOk = false) {
    const row = s.getRow!.get(key, now) as { value: Uint8Array; expires_at: number | null } | undefined;
    if (!row) return { fields: null, plain: null, expiresAt: null };
    const fields = unpackHash(row.value);
    if (fields === null && !plainOk) throw wrongType(key);
    return { fields, plain: fields === null ? row.value : null, expiresAt: row.expires_at ?? Infinity };
  }

  async hashWrite(key: string, fields: readonly HashFieldWrite[], options: HashWriteOptions = {}): Promise<boolean> {
    checkFieldNames(fields.map((f) => f.field));
    const now = Date.now();
    return this.#do('write', (s, db) => {
      let written = true;
      transaction(db, 'BEGIN IMMEDIATE', () => {
        const held = this.#heldHash(s, key, now, true);
        const start = startingFields(held.fields, held.plain, options, now);
        if (start === undefined) {
          written = false;
          return;
        }
        if (fields.length === 0 && !options.replace && start === held.fields) return;
        const next = applyHashWrite(start, held.expiresAt, fields, options, now);
        if (next.fields.size === 0) s.deleteAny!.run(key);
        else s.upsert!.run(key, packHash(next.fields), next.expiresAt === Infinity ? null : next.expiresAt);
      });
      return written;
    });
  }

  async hashRead(keys: readonly string[], fields?: readonly string[]): Promise<HashReadResult[]> {
    if (fields) checkFieldNames(fields);
    const now = Date.now();
    return this.#do('read', (s) =>
      keys.map((key) => {
        const held = this.#heldHash(s, key, now, true);
        return held.plain ?? readHeldFields(held.fields, fields, now);
      }),
    );
  }

  async hashDelete(key: string, fields: readonly string[]): Promise<number> {
    checkFieldNames(fields);
    const now = Date.now();
    return this.#do('delete', (s, db) => {
      let deleted = 0;
      transaction(db, 'BEGIN IMMEDIATE', () => {
        const held = this.#heldHash(s, key, now);
        if (held.fields === null) return;
        for (const field of fields) {
          const h = held.fields.get(field);
          if (h && h.expiresAt > now) deleted++;
          held.fields.delete(field);
        }
        if (held.fields.size === 0) s.deleteAny!.run(key);
        else s.upsert!.run(key, packHash(held.fields), held.expiresAt === Infinity ? null : held.expiresAt);
      });
      return deleted;
    });
  }

  async jsonMerge(key: string, patch: Uint8Array, options: { ttlMs?: number | undefined } = {}): Promise<void> {
    const now = Date.now();
    this.#do('write', (s, db) =>
      transaction(db, 'BEGIN IMMEDIATE', () => {
        const row = s.getRow!.get(key, now) as { value: Uint8Array; expires_at: number | null } | undefined;
        if (row && unpackHash(row.value) !== null) throw wrongType(key);
        const value = mergeJsonObjects(key, row?.value ?? null, patch, parsePythonJson, pythonJsonDumps);
        const wanted = options.ttlMs === undefined ? null : now + options.ttlMs;
        const expiresAt = !row ? wanted : wanted === null || row.expires_at === null ? row.expires_at : Math.max(row.expires_at, wanted);
        s.upsert!.run(key, value, expiresAt);
      }),
    );
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

/**
 * Runs `fn` in one transaction: committed when it returns, rolled back when it throws.
 * (better-sqlite3 had `db.transaction()`; node:sqlite leaves it to SQL.)
 */
function transaction(db: DatabaseSync, begin: 'BEGIN' | 'BEGIN IMMEDIATE', fn: () => void): void {
  db.exec(begin);
  try {
    fn();
    db.exec('COMMIT');
  } catch (error) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // SQLite rolled back already (e.g. on SQLITE_FULL); the error that says why is `error`
    }
    throw error;
  }
}
