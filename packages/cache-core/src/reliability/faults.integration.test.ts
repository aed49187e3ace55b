// Faults survived, against real processes: Redis killed and restarted under load, Redis out of
// memory, and the embedded store's file locked by another process, on a full disk and on a
// read-only disk. (Frozen Redis and the circuit breaker are in cache.integration.test.ts.)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { DatabaseSync } from 'node:sqlite';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from '../cache.js';
import { LocalStore } from '../stores/local-store.js';
import { errorsOf } from '../../test/error-events.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `condition` holds, at most `timeoutMs`; true when it did. A hang guard, not a timing assertion. */
async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    if (await condition()) return true;
  }
  return condition();
}
const dir = mkdtempSync(join(tmpdir(), 'finrisk-faults-'));
const open: Cache[] = [];

function redisCache(server: RedisServer, options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, logger: { warn: () => {} }, ...options });
  open.push(cache);
  return cache;
}

function localCache(store: LocalStore): Cache {
  const cache = createCache({ store, keyPrefix: uniquePrefix(), envFile: false, env: {}, logger: { warn: () => {} } });
  open.push(cache);
  return cache;
}

/** A real garbage collection: vitest workers do not run with --expose-gc, so expose it here. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** The listeners node-redis holds on its client, by event name. */
function listenerCounts(emitter: NodeJS.EventEmitter): Record<string, number> {
  return Object.fromEntries(emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]));
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Redis killed and restarted under load', () => {
  let server: RedisServer;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    server = await startRedisServer();
    process.on('unhandledRejection', onRejection);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await server.stop();
  });

  it('keeps answering (misses, false), does not leak, and recovers by itself', async () => {
    // Killed, not frozen: calls fail at once on the closed connection. The deadline only has to be
    // one a healthy server always meets (a timeout before the kill would be a second 'degraded').
    const cache = redisCache(server, { commandTimeoutMs: 2000 });
    const errors = errorsOf(cache);
    const events: string[] = [];
    cache.on('degraded', () => events.push('degraded'));
    cache.on('recovered', () => events.push('recovered'));
    expect(await cache.set('seed', 'v')).toBe(true);
    const client = (await cache.getRedisClient())!;
    const listenersBefore = listenerCounts(client);

    // 16 callers in a loop for the whole test; each call records when it started and what it got.
    type Outcome = { startedAt: number; op: 'get' | 'set' | 'getMany' | 'exists'; result: unknown; threw?: unknown };
    const outcomes: Outcome[] = [];
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const startedAt = Date.now();
        const op = (['get', 'set', 'getMany', 'exists'] as const)[i % 4]!;
        try {
          const result =
            op === 'get' ? await cache.get('seed')
            : op === 'set' ? await cache.set(`w${w}:${i % 50}`, { w, i })
            : op === 'getMany' ? await cache.getMany(['seed', `w${w}:0`])
            : await cache.exists('seed');
          outcomes.push({ startedAt, op, result });
        } catch (threw) {
          outcomes.push({ startedAt, op, result: undefined, threw });
        }
        // Yield to the event loop between calls: a refused call answers synchronously fast.
        await sleep(1);
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));

    // Counts of calls, not time windows: on a slow machine 16 callers make fewer calls per second.
    const startedAfter = (t: number) => outcomes.filter((o) => o.startedAt > t).length;
    expect(await waitUntil(() => outcomes.length >= 50)).toBe(true);
    await server.kill();
    const downFrom = Date.now();
    // Callers keep getting answers while the server is gone (a hang would stop them).
    expect(await waitUntil(() => startedAfter(downFrom + 50) > 200)).toBe(true);

    // Memory while Redis is away: thousands of failed calls must not accumulate anything.
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let round = 0; round < 50; round++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => cache.set(`burst:${i}`, { round, i, pad: 'x'.repeat(256) })));
    }
    collectGarbage();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const listenersDuring = listenerCounts(client);
    const downUntil = Date.now();

    await server.restart();
    const restartedAt = Date.now();
    let recoveredAfterMs = -1;
    await waitUntil(async () => {
      if (await cache.set('probe', 1)) recoveredAfterMs = Date.now() - restartedAt;
      return recoveredAfterMs >= 0;
    });
    console.log(`faults: service returned ${recoveredAfterMs} ms after redis-server was restarted; heap growth over 5000 failed writes: ${(heapGrowth / 1024).toFixed(0)} KiB`);
    // Calls started well after the recovery, of every kind, before the callers stop.
    expect(await waitUntil(() => startedAfter(restartedAt + recoveredAfterMs + 200) >= 64)).toBe(true);
    running = false;
    await Promise.all(workers);

    // No caller ever saw an exception, and nothing was left unhandled.
    expect(outcomes.filter((o) => o.threw !== undefined)).toEqual([]);
    expect(rejections).toEqual([]);
    // Calls made while the server was gone: every read a miss, every write false.
    const during = outcomes.filter((o) => o.startedAt >= downFrom + 50 && o.startedAt < downUntil);
    expect(during.length).toBeGreaterThan(100);
    for (const o of during) {
      if (o.op === 'get') expect(o.result).toBeNull();
      else if (o.op === 'getMany') expect(o.result).toEqual([null, null]);
      else expect(o.result).toBe(false);
    }
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((e) => !['E_REDIS_UNAVAILABLE', 'E_TIMEOUT'].includes(e.error.code))).toEqual([]);
    expect(events).toEqual(['degraded', 'recovered']);

    // Service came back by itself (a hang guard, not a timing assertion) and every kind of call works.
    expect(recoveredAfterMs).toBeGreaterThanOrEqual(0);
    const after = outcomes.filter((o) => o.startedAt > restartedAt + recoveredAfterMs + 200);
    expect(new Set(after.map((o) => o.op))).toEqual(new Set(['get', 'set', 'getMany', 'exists']));
    for (const o of after) {
      if (o.op === 'set') expect(o.result).toBe(true);
      if (o.op === 'get') expect(o.result).toBeNull(); // a fresh server (no persistence): the seed is gone
    }
    expect(await cache.set('seed', 'again')).toBe(true);
    expect(await cache.get('seed')).toBe('again');

    // Nothing piles up while Redis is away: no listeners added per failed call, bounded heap.
    expect(listenersDuring).toEqual(listenersBefore);
    expect(listenerCounts(client)).toEqual(listenersBefore);
    expect(heapGrowth).toBeLessThan(8 * 1024 * 1024);
    expect(cache.status).toBe('healthy');
  });
});

describe('Redis out of memory (maxmemory, noeviction)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
  });
  afterAll(() => server.stop());

  it('refuses writes gracefully, reports them, and keeps serving reads', async () => {
    const cache = redisCache(server, { commandTimeoutMs: 2000 });
    const errors = errorsOf(cache);
    const degraded: unknown[] = [];
    cache.on('degraded', (e) => degraded.push(e));
    expect(await cache.set('early', { kept: true }, { ttl: null })).toBe(true);

    let refusedAt = -1;
    for (let i = 0; i < 200 && refusedAt < 0; i++) {
      if (!(await cache.set(`fill:${i}`, randomBytes(64 * 1024), { ttl: null }))) refusedAt = i;
    }
    expect(refusedAt).toBeGreaterThan(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.operation).toBe('set');
    expect(errors[0]!.error.code).toBe('E_REDIS_COMMAND');
    expect(errors[0]!.error.message).toMatch(/OOM/);
    expect(await cache.setMany([{ key: 'a', value: randomBytes(64 * 1024) }])).toBe(false);
    expect(errors[1]?.error.code).toBe('E_REDIS_COMMAND');
    expect(cache.processStats().byKind.kv!.writeFailures).toBe(2);

    // Reads go on, the server is not treated as gone, and freeing memory lets writes in again.
    expect(await cache.get('early')).toEqual({ kept: true });
    expect(await cache.getMany(['early', 'fill:0'])).toHaveLength(2);
    expect(cache.circuitState).toBe('closed');
    expect(degraded).toEqual([]);
    expect(await cache.deleteByPrefix('fill:')).toEqual({ count: refusedAt, complete: true });
    expect(await cache.set('after', 1)).toBe(true);
  });
});

describe('embedded store faults', () => {
  /** Holds the file with BEGIN EXCLUSIVE from another process until killed. */
  async function lockFromAnotherProcess(path: string): Promise<ChildProcess> {
    const script = `
      const { DatabaseSync } = require('node:sqlite');
      const db = new DatabaseSync(${JSON.stringify(path)});
      db.exec('BEGIN EXCLUSIVE');
      db.prepare("INSERT INTO entries (key, value, expires_at) VALUES ('other', x'00', NULL) ON CONFLICT(key) DO NOTHING").run();
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c));
      child.stdout!.on('data', (c: Buffer) => c.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`locking process exited ${code}: ${err}`)));
    });
    return child;
  }

  function integrityOf(path: string): string {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return String((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check);
    } finally {
      db.close();
    }
  }

  it('answers false and a clear error while another process holds the lock, and loses nothing', async () => {
    const path = join(dir, 'locked.db');
    const cache = localCache(new LocalStore({ path, busyTimeoutMs: 100 }));
    const errors = errorsOf(cache);
    expect(await cache.set('early', 'kept', { ttl: null })).toBe(true);

    const locker = await lockFromAnotherProcess(path);
    try {
      expect(await cache.set('blocked', 1)).toBe(false);
      expect(await cache.setMany([{ key: 'b1', value: 1 }])).toBe(false);
      expect(errors.map((e) => e.error.code)).toEqual(['E_LOCAL_STORE', 'E_LOCAL_STORE']);
      expect(errors[0]!.error.message).toContain(path);
      expect(errors[0]!.error.message).toMatch(/SQLITE_BUSY.*another process holds the file locked/);
      // WAL: readers are not blocked by a writer, so reads go on.
      expect(await cache.get('early')).toBe('kept');
    } finally {
      locker.kill('SIGKILL');
      await new Promise((r) => locker.once('exit', r));
    }
    expect(await cache.set('after', 2)).toBe(true);
    await cache.close();
    expect(integrityOf(path)).toBe('ok');
    const store = new LocalStore({ path });
    const early = await store.get(cache.keys.key('kv', 'early').key);
    expect(Buffer.from(early!).subarray(6).toString()).toBe('"kept"');
    // The killed process's uncommitted row was rolled back, not half-written.
    expect(await store.get('other')).toBeNull();
    await store.close();
  });

  describe('on a tmpfs', () => {
    const mounts: string[] = [];
    function mountTmpfs(size: string): string {
      const at = mkdtempSync(join(tmpdir(), 'finrisk-tmpfs-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { stdio: 'pipe' });
      } catch (error) {
        // Never a silent skip: this test needs root and mount(8).
        throw new Error(`cannot mount a tmpfs at ${at} for the disk tests (run as root where mount works): ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`);
      }
      mounts.push(at);
      return at;
    }
    afterAll(() => {
      for (const at of mounts) {
        try {
          execFileSync('umount', [at], { stdio: 'pipe' });
        } catch {
          execFileSync('umount', ['-l', at], { stdio: 'pipe' });
        }
        rmSync(at, { recursive: true, force: true });
      }
    });

    it('on a full disk: writes answer false with "disk is full", earlier data still reads back', async () => {
      const at = mountTmpfs('1m');
      const path = join(at, 'cache.db');
      const cache = localCache(new LocalStore({ path }));
      const errors = errorsOf(cache);
      for (let i = 0; i < 10; i++) expect(await cache.set(`early:${i}`, { i }, { ttl: null })).toBe(true);
      let fullAt = -1;
      for (let i = 0; i < 100 && fullAt < 0; i++) {
        if (!(await cache.set(`big:${i}`, randomBytes(32 * 1024), { ttl: null }))) fullAt = i;
      }
      expect(fullAt).toBeGreaterThan(0);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.error.code).toBe('E_LOCAL_STORE');
      expect(errors[0]!.error.message).toMatch(/SQLITE_FULL.*disk is full/);
      for (let i = 0; i < 10; i++) expect(await cache.get(`early:${i}`)).toEqual({ i });
      await cache.close();
      expect(integrityOf(path)).toBe('ok');
      const store = new LocalStore({ path });
      for (let i = 0; i < 10; i++) expect(await store.get(cache.keys.key('kv', `early:${i}`).key)).not.toBeNull();
      expect(await store.get(cache.keys.key('kv', `big:${fullAt - 1}`).key)).not.toBeNull();
      await store.close();
    });

    it('on a read-only disk: a clear error and a miss, never a corrupt file', async () => {
      const at = mountTmpfs('4m');
      const path = join(at, 'cache.db');
      const writer = localCache(new LocalStore({ path }));
      for (let i = 0; i < 10; i++) expect(await writer.set(`early:${i}`, { i }, { ttl: null })).toBe(true);
      await writer.close();
      execFileSync('mount', ['-o', 'remount,ro', at], { stdio: 'pipe' });

      // SQLite cannot create the WAL's shared-memory file on a read-only disk, so the file
      // does not open at all: reads are misses and writes false, each with the reason.
      const store = new LocalStore({ path });
      const cache = createCache({ store, keyPrefix: writer.config.keyPrefix, envFile: false, env: {} });
      open.push(cache);
      const errors = errorsOf(cache);
      expect(await cache.set('late', 1)).toBe(false);
      expect(await cache.delete('early:0')).toBe(false);
      expect(await cache.get('early:1')).toBeNull();
      expect(errors.map((e) => e.error.code)).toEqual(['E_LOCAL_STORE', 'E_LOCAL_STORE', 'E_LOCAL_STORE']);
      for (const e of errors) {
        expect(e.error.message).toContain(path);
        expect(e.error.message).toMatch(/\((SQLITE_CANTOPEN|SQLITE_READONLY)\): the file or its folder is not writable/);
      }
      await cache.close();

      execFileSync('mount', ['-o', 'remount,rw', at], { stdio: 'pipe' });
      expect(integrityOf(path)).toBe('ok');
      const reopened = createCache({ store: new LocalStore({ path }), keyPrefix: writer.config.keyPrefix, envFile: false, env: {} });
      open.push(reopened);
      for (let i = 0; i < 10; i++) expect(await reopened.get(`early:${i}`)).toEqual({ i });
      expect(await reopened.get('late')).toBeNull();
    });
  });
});
