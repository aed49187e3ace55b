// Files that earlier versions of the embedded store left on disk open and read the same with this
// one. The fixture was written by @finrisk/cache-core 0.1.0 on better-sqlite3 12
// (test/fixtures/local-store/write-fixture.mjs); its manifest lists every row as SQLite held it,
// read back with better-sqlite3 itself, so this compares against the file, not against this store.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../cache.js';
import { createSessionStore } from '../session.js';
import { LocalStore } from './local-store.js';

interface FixtureRow {
  key: string;
  sha256: string;
  bytes: number;
  expiresAt: number | null;
}
const fixtures = fileURLToPath(new URL('../../test/fixtures/local-store/', import.meta.url));
const manifest = JSON.parse(readFileSync(join(fixtures, 'v0.1-better-sqlite3.json'), 'utf8')) as { writtenAt: number; rows: FixtureRow[] };
const dir = mkdtempSync(join(tmpdir(), 'finrisk-local-compat-'));
let copies = 0;

/** A copy of the fixture (opening a file in WAL mode writes beside it; the fixture stays as 0.1.0 left it). */
function copyOfFixture(): string {
  const path = join(dir, `copy-${++copies}.db`);
  copyFileSync(join(fixtures, 'v0.1-better-sqlite3.db'), path);
  return path;
}

/** The 1 MiB value of the fixture, made the same way as write-fixture.mjs made it. */
function bigValue(): Buffer {
  const big = Buffer.alloc(1024 * 1024 + 1);
  let x = 0x2545f491;
  for (let i = 0; i < big.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    big[i] = x & 0xff;
  }
  return big;
}

const sha256 = (value: Uint8Array) => createHash('sha256').update(value).digest('hex');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded store files written by 0.1.0 (better-sqlite3)', () => {
  // Read as of one minute after the file was written: its one-hour TTLs still run, its 1 s TTL is over.
  beforeEach(() => {
    vi.useFakeTimers({ now: manifest.writtenAt + 60_000, toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('has the rows the fixture was written to hold: every kind, TTLs, a 1 MiB value, an expired row', () => {
    const kinds = new Set(manifest.rows.map((r) => r.key.split(':')[1]));
    expect([...kinds].sort()).toEqual(['dataframe', 'feature', 'generation', 'kv', 'model', 'prediction', 'session']);
    expect(manifest.rows.some((r) => r.bytes > 1024 * 1024)).toBe(true);
    expect(manifest.rows.filter((r) => r.expiresAt !== null && r.expiresAt <= Date.now())).toHaveLength(1);
    expect(manifest.rows.filter((r) => r.expiresAt !== null && r.expiresAt > Date.now()).length).toBeGreaterThan(2);
  });

  it('reads every row: the same keys in the same order, the same bytes, the same TTLs, the expired row absent', async () => {
    const store = new LocalStore({ path: copyOfFixture() });
    const now = Date.now();
    const live = manifest.rows.filter((r) => r.expiresAt === null || r.expiresAt > now);
    const keys: string[] = [];
    for await (const batch of store.scan('finrisk:', 5)) keys.push(...batch);
    expect(keys).toEqual(live.map((r) => r.key));
    for (const row of manifest.rows) {
      const value = await store.get(row.key);
      if (row.expiresAt !== null && row.expiresAt <= now) {
        expect(value, row.key).toBeNull();
        expect(await store.ttl(row.key)).toBe(-2);
        continue;
      }
      expect(value, row.key).not.toBeNull();
      expect(value!.byteLength, row.key).toBe(row.bytes);
      expect(sha256(value!), row.key).toBe(row.sha256);
      expect(await store.ttl(row.key), row.key).toBe(row.expiresAt === null ? -1 : row.expiresAt - now);
    }
    expect((await store.info()).keys).toBe(live.length);
    await store.close();
  });

  it('decodes what 0.1.0 wrote through the cache: values, a counter, a session, a 1 MiB value, an escaped key', async () => {
    const cache = createCache({ store: new LocalStore({ path: copyOfFixture() }), envFile: false, env: {} });
    expect(await cache.get('plain')).toBe('a string, no TTL');
    expect(await cache.get('rich')).toEqual({ at: new Date(Date.UTC(2026, 0, 2)), ids: new Set([1, 2]), amount: 1234567890123n, nested: { ok: true } });
    const rich = manifest.rows.find((r) => r.key === 'finrisk:kv:rich')!;
    expect(await cache.pttl('rich')).toBe(rich.expiresAt! - Date.now());
    expect(await cache.get('ten-years')).toEqual([1, 2, 3]);
    expect(Buffer.from((await cache.get('big')) as Uint8Array).equals(bigValue())).toBe(true);
    expect(await cache.get('clé:ü%/*?[]')).toBe('a key with characters the key schema encodes');
    expect(await cache.get('expired')).toBeNull();
    expect(await cache.getCounter('counter')).toBe(3);
    expect(await createSessionStore(cache, { ttl: 3600 }).get('sess-1')).toEqual({ user: 'analyst', roles: ['read'] });
    await cache.close();
  });

  it('writes on into a 0.1.0 file, which stays a sound SQLite database that reopens with every value', async () => {
    const path = copyOfFixture();
    const cache = createCache({ store: new LocalStore({ path }), envFile: false, env: {} });
    expect(await cache.incr('counter')).toBe(4);
    expect(await cache.set('new', { written: 'by node:sqlite' }, { ttl: null })).toBe(true);
    expect(await cache.delete('plain')).toBe(true);
    await cache.close();

    const db = new DatabaseSync(path, { readOnly: true });
    try {
      expect((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check).toBe('ok');
      expect((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    } finally {
      db.close();
    }
    const reopened = createCache({ store: new LocalStore({ path }), envFile: false, env: {} });
    expect(await reopened.getCounter('counter')).toBe(4);
    expect(await reopened.get('new')).toEqual({ written: 'by node:sqlite' });
    expect(await reopened.get('plain')).toBeNull();
    expect(Buffer.from((await reopened.get('big')) as Uint8Array).equals(bigValue())).toBe(true);
    await reopened.close();
  });
});
