import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { clockPast, until } from '@finrisk/test-utils/fixtures';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from './cache.js';
import { getCache, getCacheStats, getRedisClient, resetCache } from './default-cache.js';
import { createSessionStore } from './session.js';
import { errorsOf } from '../test/error-events.js';

let server: RedisServer;
const open: Cache[] = [];
const dir = mkdtempSync(join(tmpdir(), 'finrisk-cache-it-'));


// A generous command deadline for the tests that are not about deadlines: on a loaded machine a
// pause of the test process longer than the default 250 ms would fail a healthy command.
function make(options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, commandTimeoutMs: 5000, ...options });
  open.push(cache);
  return cache;
}

beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await resetCache();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('cache on Redis', () => {
  it('round-trips every supported type', async () => {
    const cache = make();
    const values: Record<string, unknown> = {
      object: { risk_score: 0.75, decision: 'approve' },
      array: [1, [2, 3]],
      string: 'text',
      number: 3.25,
      nan: Number.NaN,
      inf: -Infinity,
      negzero: -0,
      bool: false,
      nul: null,
      date: new Date('2024-01-15T00:00:00Z'),
      map: new Map([['k', new Set([1, 2])]]),
      bigint: 2n ** 70n,
      f64: new Float64Array([0.1, 0.2]),
      bytes: new Uint8Array([0, 1, 255]),
    };
    for (const [key, value] of Object.entries(values)) expect(await cache.set(key, value)).toBe(true);
    for (const [key, value] of Object.entries(values)) expect(await cache.get(key)).toStrictEqual(value);
  });

  it('stores binary values as raw bytes after a 6-byte header', async () => {
    const cache = make();
    await cache.set('blob', Buffer.from('RAWBYTES'));
    const key = cache.keys.key('kv', 'blob').key;
    expect(server.cli('GETRANGE', key, '6', '-1')).toBe('RAWBYTES');
    expect(server.cli('STRLEN', key)).toBe('14');
  });

  it('applies TTLs on the server: default per kind, explicit, and none', async () => {
    const cache = make();
    // A TTL read later is lower by the time since the write: bound it by the time measured around
    // both, which holds on a fast machine (nothing elapsed) and a slow one alike.
    const start = Date.now();
    await cache.set('generic', 1);
    await cache.set(cache.keys.key('prediction', 'C1', 'credit'), 1);
    await cache.set('explicit', 1, { ttl: 42 });
    await cache.set('forever', 1, { ttl: null });
    const pttl = (key: string) => Number(server.cli('PTTL', key));
    const expectTtlMs = (key: string, ttlMs: number) => {
      const left = pttl(key);
      expect(left, key).toBeLessThanOrEqual(ttlMs);
      expect(left, key).toBeGreaterThanOrEqual(ttlMs - (Date.now() - start));
    };
    expectTtlMs(cache.keys.key('kv', 'generic').key, 1_800_000);
    expectTtlMs(cache.keys.key('prediction', 'C1', 'credit').key, 3_600_000);
    expectTtlMs(cache.keys.key('kv', 'explicit').key, 42_000);
    expect(pttl(cache.keys.key('kv', 'forever').key)).toBe(-1);
    // ttl() is whole seconds rounded up: 42 until a full second has passed, never more.
    const explicit = await cache.ttl('explicit');
    expect(explicit).toBeLessThanOrEqual(42);
    expect(explicit).toBeGreaterThanOrEqual(42 - Math.floor((Date.now() - start) / 1000));
    expect(await cache.ttl('forever')).toBe(-1);
    expect(await cache.ttl('missing')).toBe(-2);
  });

  it('takes TTL defaults from the environment', async () => {
    const cache = make({ env: { CACHE_DEFAULT_TTL: '77' } });
    const start = Date.now();
    await cache.set('k', 1);
    const left = Number(server.cli('PTTL', cache.keys.key('kv', 'k').key));
    expect(left).toBeLessThanOrEqual(77_000);
    expect(left).toBeGreaterThanOrEqual(77_000 - (Date.now() - start));
  });

  it('refuses invalid TTLs and keys even though backend failures are swallowed', async () => {
    const cache = make();
    await expect(cache.set('k', 1, { ttl: -1 })).rejects.toThrow(/ttl must be a positive number/);
    await expect(cache.set('k', 1, { ttl: 0 })).rejects.toThrow(/ttl/);
    await expect(cache.set('', 1)).rejects.toThrow(/must not be empty/);
    await expect(cache.get('a\nb')).rejects.toThrow(/control character/);
  });

  it('has exists, delete, getMany, setMany and deleteMany', async () => {
    const cache = make();
    // b's TTL is long enough that a slow machine still reads it back.
    expect(await cache.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 'two', ttl: 600 }])).toBe(true);
    expect(await cache.getMany(['a', 'missing', 'b'])).toEqual([1, null, 'two']);
    expect(await cache.exists('a')).toBe(true);
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    expect(await cache.exists('a')).toBe(false);
    expect(await cache.deleteMany(['b', 'c'])).toEqual({ count: 1, complete: true });
  });

  it('reads many keys with one MGET', async () => {
    const cache = make();
    await cache.setMany(Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: i })));
    const calls = () => Number(/cmdstat_mget:calls=(\d+)/.exec(server.cli('INFO', 'commandstats'))?.[1] ?? 0);
    const gets = () => Number(/cmdstat_get:calls=(\d+)/.exec(server.cli('INFO', 'commandstats'))?.[1] ?? 0);
    const [mget0, get0] = [calls(), gets()];
    const values = await cache.getMany(Array.from({ length: 100 }, (_, i) => `k${i}`));
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(calls() - mget0).toBe(1);
    expect(gets() - get0).toBe(0);
  });

  it('reads a large batch as a few pipelined MGETs, large compressed values and misses in their places', async () => {
    // What is tested is how the batch is sent, not how fast: the default 250 ms deadline failed
    // this ~2 MB setMany on a loaded machine.
    const cache = make({ commandTimeoutMs: 10_000 });
    // ~700 KB of poorly compressible JSON: deflated and inflated off the thread (a promise inside
    // the batch, both ways); the small values are coded inline.
    const big = { weights: Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) % 1000003) };
    const entries = Array.from({ length: 2500 }, (_, i) => ({ key: `batch${i}`, value: i % 1000 === 7 ? big : { i } }));
    expect(await cache.setMany(entries.filter((_, i) => i % 11 !== 5))).toBe(true);
    const calls = () => Number(/cmdstat_mget:calls=(\d+)/.exec(server.cli('INFO', 'commandstats'))?.[1] ?? 0);
    const before = calls();
    const values = await cache.getMany(entries.map((e) => e.key));
    expect(calls() - before).toBe(3); // 1,000 keys per MGET
    expect(values).toEqual(entries.map((e, i) => (i % 11 === 5 ? null : e.value)));
    expect(server.cli('GETRANGE', cache.keys.key('kv', 'batch7').key, '4', '4')).toBe('\x01'); // compressed
  });

  it('deletes by prefix with SCAN, treating glob characters literally', async () => {
    const cache = make();
    for (const key of ['*', '*x', 'CUST[0-9]:1', 'CUST1', 'CUST[0-9]:2', 'other']) await cache.set(key, key);
    expect(await cache.countByPrefix('CUST[0-9]')).toEqual({ count: 2, complete: true });
    expect(await cache.deleteByPrefix('CUST[0-9]')).toEqual({ count: 2, complete: true });
    expect(await cache.get('CUST1')).toBe('CUST1');
    expect(await cache.deleteByPrefix('*')).toEqual({ count: 2, complete: true });
    expect(await cache.get('other')).toBe('other');
    const monitorFree = server.cli('INFO', 'commandstats');
    expect(monitorFree).not.toMatch(/cmdstat_keys:/);
  });

  it('keeps caches with different prefixes apart', async () => {
    const a = make({ keyPrefix: 'tenant-a' });
    const b = make({ keyPrefix: 'tenant-b' });
    await a.set('k', 'a');
    expect(await b.get('k')).toBeNull();
    expect(await b.deleteByPrefix('')).toEqual({ count: 0, complete: true });
    expect(await a.get('k')).toBe('a');
    await a.deleteByPrefix('');
  });

  it('treats a payload it did not write as a miss and an error event', async () => {
    const cache = make();
    const errors = errorsOf(cache);
    const key = cache.keys.key('kv', 'foreign').key;
    server.cli('SET', key, '{"written": "by someone else"}');
    expect(await cache.get('foreign')).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error.code).toBe('E_PAYLOAD_CORRUPT');
    expect(errors[0]!.key).toBe(key);
    expect(cache.processStats().byKind.kv!.misses).toBe(1);
  });

  it('treats a payload of a future format as a miss that says why', async () => {
    const cache = make();
    const errors = errorsOf(cache);
    await cache.set('future', { a: 1 });
    const key = cache.keys.key('kv', 'future').key;
    server.cli('SETRANGE', key, '2', '\x09');
    expect(await cache.get('future')).toBeNull();
    expect(errors[0]!.error.code).toBe('E_PAYLOAD_UNSUPPORTED');
    expect(errors[0]!.error.message).toMatch(/format 9.*upgrade/);
  });

  it('reports stats with the guide fields, server and process hit rates', async () => {
    const cache = make();
    await cache.set('s', 1);
    await cache.get('s');
    await cache.get('nope');
    const stats = await cache.stats();
    expect(stats.status).toBe('healthy');
    expect(stats.backend).toBe('redis');
    expect(stats.connectedClients).toBeGreaterThanOrEqual(1);
    expect(stats.usedMemory).toMatch(/^\d+(\.\d\d)?(B|KB|MB)$/);
    expect(stats.usedMemoryBytes).toBeGreaterThan(0);
    expect(stats.totalCommandsProcessed).toBeGreaterThan(0);
    expect(stats.hitRate).toBeGreaterThan(0);
    expect(stats.hitRate).toBeLessThan(1);
    expect(stats.process.hits).toBe(1);
    expect(stats.process.misses).toBe(1);
    expect(stats.process.hitRate).toBe(0.5);
    expect(stats.latencyMs).toBeGreaterThan(0);
    expect(stats.maxMemoryPolicy).toBe('noeviction');
  });

  it('checks the connection without showing the password', async () => {
    const secured = await startRedisServer({ args: ['--requirepass', 's3cret'], password: 's3cret' });
    try {
      const ok = make({ url: undefined, host: '127.0.0.1', port: secured.port, password: 's3cret' });
      const check = await ok.checkConnection();
      expect(check).toMatchObject({ ok: true, backend: 'redis' });
      expect(check.address).toBe(`redis://:***@127.0.0.1:${secured.port}/0`);
      const wrong = make({ url: `redis://:wrong-pass@127.0.0.1:${secured.port}` });
      const failed = await wrong.checkConnection();
      expect(failed.ok).toBe(false);
      expect(JSON.stringify(failed)).not.toContain('wrong-pass');
    } finally {
      await secured.stop();
    }
  });

  it('gives the node-redis client for advanced use', async () => {
    const cache = make();
    const client = await cache.getRedisClient();
    expect(await client!.ping()).toBe('PONG');
    const memory = createCache({ backend: 'memory', envFile: false, env: {} });
    open.push(memory);
    expect(await memory.getRedisClient()).toBeNull();
  });

  it('has sessions with sliding expiry', async () => {
    const cache = make();
    const sessions = createSessionStore(cache, { ttl: 60 });
    const key = cache.keys.key('session', 'sess-1').key;
    const pttl = () => Number(server.cli('PTTL', key));
    // Idle time is played on the server's clock (PEXPIRE shortens what is left) rather than slept,
    // so the test does not depend on how fast this machine gets from one line to the next.
    const expectRestarted = (since: number) => {
      const left = pttl();
      expect(left).toBeLessThanOrEqual(60_000);
      expect(left).toBeGreaterThanOrEqual(60_000 - (Date.now() - since));
    };
    let since = Date.now();
    expect(await sessions.set('sess-1', { user: 'ana', roles: new Set(['analyst']) })).toBe(true);
    expectRestarted(since);
    server.cli('PEXPIRE', key, '30000');
    since = Date.now();
    expect(await sessions.get('sess-1')).toEqual({ user: 'ana', roles: new Set(['analyst']) });
    expectRestarted(since); // the read restarted the TTL
    server.cli('PEXPIRE', key, '30000');
    since = Date.now();
    expect(await sessions.touch('sess-1')).toBe(true);
    expectRestarted(since); // so did the touch
    // Idle for its whole TTL: gone, and a touch does not bring it back.
    server.cli('PEXPIRE', key, '1');
    await clockPast(Date.now() + 1); // the server set the 1 ms TTL before redis-cli returned
    expect(await sessions.get('sess-1')).toBeNull();
    expect(await sessions.touch('sess-1')).toBe(false);
    expect(await sessions.set('sess-1', { user: 'ana' })).toBe(true);
    expect(await sessions.delete('sess-1')).toBe(true);
    expect(await sessions.get('sess-1')).toBeNull();
    expect(await sessions.touch('sess-1')).toBe(false);
  });
});

describe('the process-wide cache', () => {
  it('is one cache, configured from the environment', async () => {
    await resetCache();
    const previous = { url: process.env.REDIS_URL, backend: process.env.CACHE_BACKEND };
    process.env.REDIS_URL = server.url;
    process.env.CACHE_BACKEND = 'redis';
    try {
      expect(getCache()).toBe(getCache());
      expect(await getCache().set('global', 1)).toBe(true);
      expect((await getCacheStats()).backend).toBe('redis');
      expect(await (await getRedisClient())!.exists('finrisk:kv:global')).toBe(1);
      await getCache().delete('global');
    } finally {
      for (const [name, value] of [['REDIS_URL', previous.url], ['CACHE_BACKEND', previous.backend]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await resetCache();
    }
  });
});

function busy300(): void {
  const until = Date.now() + 300;
  while (Date.now() < until) {
    // a stall of the process in the middle of a deadline
  }
}

describe('when Redis goes away', () => {
  it('answers misses and false, never throws, and recovers by itself', async () => {
    const own = await startRedisServer();
    try {
      // The server is killed, not frozen: calls fail at once on the closed connection, so the
      // deadline only has to be long enough that a healthy call never misses it.
      const cache = make({ url: own.url, commandTimeoutMs: 2000 });
      const events: string[] = [];
      cache.on('degraded', () => events.push('degraded'));
      cache.on('recovered', () => events.push('recovered'));
      const errors = errorsOf(cache);
      expect(await cache.set('k', 'before')).toBe(true);

      await own.kill();
      // Calls during the outage resolve (they do not hang or throw) with misses and false.
      for (let i = 0; i < 5; i++) {
        expect(await cache.get('k')).toBeNull();
        expect(await cache.set('k2', 'during')).toBe(false);
        expect(await cache.exists('k')).toBe(false);
        expect(await cache.getMany(['k', 'k2'])).toEqual([null, null]);
      }
      // Operations on many keys say that they failed, rather than answering 0 as if nothing matched.
      for (const result of [await cache.deleteMany(['k', 'k2']), await cache.deleteByPrefix(''), await cache.countByPrefix('')]) {
        expect(result).toMatchObject({ count: 0, complete: false, error: expect.objectContaining({ code: expect.stringMatching(/^E_(REDIS_UNAVAILABLE|TIMEOUT)$/) }) });
      }
      expect(events).toContain('degraded');
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => ['E_REDIS_UNAVAILABLE', 'E_TIMEOUT'].includes(e.error.code))).toBe(true);
      expect((await cache.stats()).status).toBe('unhealthy');

      await own.restart();
      await until('a write lands after the restart', () => cache.set('k3', 'after'));
      expect(await cache.get('k3')).toBe('after');
      expect(events).toEqual(['degraded', 'recovered']);
      expect((await cache.stats()).status).toBe('healthy');
    } finally {
      await own.stop();
    }
  });

  it('does not time out a reply that arrived while the process was held up past the deadline', async () => {
    // A long GC or a starved CPU: the reply is on the socket, but the process only looks after
    // the deadline passed. Node runs expired timers before it reads sockets; the reply must win.
    const cache = make({ commandTimeoutMs: 250 });
    await cache.set('paused', { v: 1 });
    const errors = errorsOf(cache);
    for (let i = 0; i < 3; i++) {
      const read = cache.get('paused');
      // One turn of the loop writes the command (node-redis writes on an immediate); the reply
      // then lands on the socket while this process is busy.
      await new Promise((r) => setImmediate(r));
      // Held up well past the 250 ms deadline, long enough for the reply to arrive on any machine.
      const until = Date.now() + 800;
      while (Date.now() < until) {
        // busy: nothing else runs, the reply waits on the socket
      }
      expect(await read).toEqual({ v: 1 });
    }
    expect(errors).toEqual([]);
  });

  it('does not time out a large transfer that could not move while the process itself was stalled', async () => {
    // Encoding a big column, or a long GC: while the process is busy, a request larger than the
    // socket's buffers is not written out and a large reply is not read in, so it cannot finish in
    // time; the stall is the process's, not the server's, and does not count against the deadline.
    // A deadline of 1 s, not 250 ms: once a stall ends, 24 MiB still has to cross loopback through
    // redis-server within the deadline plus 1 ms per 64 KiB, and on a loaded two-core machine
    // 250 + 384 ms was not always enough. The stalls stay well past the whole budget.
    const cache = make({ commandTimeoutMs: 1000 });
    const big = new Uint8Array(24 * 1024 * 1024).fill(3);
    const errors = errorsOf(cache);
    const busy = (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // busy: the socket is neither written nor read
      }
    };
    for (let i = 0; i < 2; i++) {
      const write = cache.setMany([{ key: 'stalled', value: big, compress: false }]);
      await new Promise((r) => setImmediate(r));
      busy(2500); // well past 1000 ms plus 1 ms per 64 KiB written
      expect(await write).toBe(true);
      const read = cache.getMany<Uint8Array>(['stalled']);
      await new Promise((r) => setImmediate(r));
      busy(2500);
      const [value] = await read;
      expect((value as Uint8Array | null)?.byteLength).toBe(big.byteLength);
    }
    expect(errors).toEqual([]);
  });

  it('a deadline still ends a call to a server that never answers, stalls of the process included', async () => {
    const server = await startRedisServer();
    try {
      const cache = make({ url: server.url, commandTimeoutMs: 100, breakerThreshold: 1_000_000 });
      expect(await cache.set('k', 1)).toBe(true);
      const errors = errorsOf(cache);
      server.signal('SIGSTOP');
      try {
        const read = cache.get('k');
        await new Promise((r) => setImmediate(r));
        busy300();
        expect(await read).toBeNull();
        expect(errors.map((e) => e.error.code)).toEqual(['E_TIMEOUT']);
      } finally {
        server.signal('SIGCONT');
      }
      await cache.close();
    } finally {
      await server.stop();
    }
  });

  it('throws in strict mode', async () => {
    const port = await freePort();
    const cache = make({ url: `redis://127.0.0.1:${port}`, strict: true, connectTimeoutMs: 200 });
    const error = await cache.get('k').catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('E_REDIS_UNAVAILABLE');
  });

  it('ends calls to a frozen server at the command timeout, then stops sending work until a probe answers', async () => {
    const own = await startRedisServer();
    try {
      // A deadline a healthy server always meets, and a cooldown far longer than the 20 refused
      // calls below take (they are answered in-process), so no probe is due while they run.
      const cooldownMs = 3000;
      const cache = make({ url: own.url, commandTimeoutMs: 1000, breakerThreshold: 3, breakerCooldownMs: cooldownMs });
      const errors = errorsOf(cache);
      const events: string[] = [];
      cache.on('degraded', () => events.push('degraded'));
      cache.on('recovered', () => events.push('recovered'));
      expect(await cache.set('k', 1)).toBe(true);
      own.signal('SIGSTOP');
      for (let i = 0; i < 2; i++) expect(await cache.get('k')).toBeNull();
      const beforeOpening = Date.now(); // the circuit opens during the next call, not before
      expect(await cache.get('k')).toBeNull();
      expect(errors.map((e) => e.error.code)).toEqual(['E_TIMEOUT', 'E_TIMEOUT', 'E_TIMEOUT']);
      expect(cache.circuitState).toBe('open');
      expect(cache.status).toBe('degraded');
      expect(events).toEqual(['degraded']);
      // While open, calls are answered without going to the server: no new timeouts. Only a probe
      // (one per cooldown) may reach the frozen server; on any machine that runs these 20 calls in
      // less than the cooldown that is none, and each call that went out would add a timeout.
      for (let i = 0; i < 20; i++) expect(await cache.get('k')).toBeNull();
      const probesDue = Math.floor((Date.now() - beforeOpening) / cooldownMs);
      expect(errors.length - 3).toBeLessThanOrEqual(probesDue);
      own.signal('SIGCONT');
      let value: unknown = null;
      await until('a read answers after SIGCONT', async () => (value = await cache.get('k')) !== null);
      expect(value).toBe(1);
      expect(cache.circuitState).toBe('closed');
      expect(events).toEqual(['degraded', 'recovered']);
    } finally {
      own.signal('SIGCONT');
      await own.stop();
    }
  });

  it('with backend=redis never switches store while Redis is down', async () => {
    const port = await freePort();
    const cache = make({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 200 });
    expect(await cache.set('k', 1)).toBe(false);
    expect(await cache.get('k')).toBeNull();
    expect(cache.store?.backend).toBe('redis');
    const check = await cache.checkConnection();
    expect(check.ok).toBe(false);
    expect(check.code).toBe('E_REDIS_UNAVAILABLE');
  });
});

describe('backend auto', () => {
  it('uses Redis when it answers', async () => {
    const cache = make({ backend: 'auto' });
    expect(await cache.set('k', 1)).toBe(true);
    expect(cache.store?.backend).toBe('redis');
    expect(cache.isFallback).toBe(false);
  });

  it('falls back to the embedded store, says so once, and keeps data across caches', async () => {
    const port = await freePort();
    const warnings: string[] = [];
    const localPath = join(dir, 'fallback.db');
    const options: CreateCacheOptions = {
      backend: 'auto', url: `redis://:pw@127.0.0.1:${port}`, connectTimeoutMs: 200, localPath,
      logger: { warn: (m) => warnings.push(m) },
    };
    const first = make(options);
    expect(await first.set('k', { kept: true })).toBe(true);
    expect(await first.get('k')).toEqual({ kept: true });
    await first.get('again');
    expect(first.store?.backend).toBe('local');
    expect(first.isFallback).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(localPath);
    expect(warnings[0]).toContain('REDIS_URL');
    expect(warnings[0]).not.toContain(':pw@');
    const stats = await first.stats();
    expect(stats.status).toBe('degraded');
    expect(stats.backend).toBe('local');
    await first.close();

    const second = make({ ...options, keyPrefix: first.config.keyPrefix });
    expect(await second.get('k')).toEqual({ kept: true });
  });
});
