// scan() is an operation like every other: a walk over a frozen or broken server ends within the
// scan deadline and is counted, reported, degrades the cache and trips the circuit breaker; an
// open circuit ends it without a round trip.
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions, type OperationEvent } from '../cache.js';
import { FinRiskCacheError } from '../errors.js';
import { errorsOf } from '../../test/error-events.js';

const DEADLINES = { commandTimeoutMs: 200, scanTimeoutMs: 400 } as const;
/** The scan deadline plus slack for a loaded 2-core machine: what it catches is a hang, not slowness. */
const SCAN_BOUND_MS = DEADLINES.scanTimeoutMs + 5000;

let server: RedisServer;
const open: Cache[] = [];

function make(options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: uniquePrefix('scan'), envFile: false, env: {}, ...DEADLINES, logger: { warn: () => undefined }, ...options });
  open.push(cache);
  return cache;
}

function operationsOf(cache: Cache): OperationEvent[] {
  const events: OperationEvent[] = [];
  cache.on('operation', (e) => events.push(e));
  return events;
}

async function collect(iterable: AsyncIterable<string[]>): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of iterable) keys.push(...page);
  return keys;
}

/** The walk's outcome and how long it took, in ms. */
async function timed(fn: () => Promise<string[]>): Promise<{ keys?: string[]; error?: unknown; ms: number }> {
  const start = performance.now();
  const outcome = await fn().then((keys) => ({ keys }), (error: unknown) => ({ error }));
  return { ...outcome, ms: performance.now() - start };
}

beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  server.signal('SIGCONT');
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.stop();
});

describe('scan through the operation policy', () => {
  it('a walk that works is one operation, counted and in an operation event', async () => {
    const cache = make();
    const events = operationsOf(cache);
    expect(await cache.setMany([{ key: 'a:1', value: 1 }, { key: 'a:2', value: 2 }])).toBe(true);
    const before = cache.processStats().byKind.kv?.operations ?? 0;
    expect((await collect(cache.scan('a:'))).sort()).toEqual([cache.keys.key('kv', 'a:1').key, cache.keys.key('kv', 'a:2').key]);
    expect(events.filter((e) => e.operation === 'scan')).toEqual([expect.objectContaining({ operation: 'scan', kind: 'kv', ok: true })]);
    expect(cache.processStats().byKind.kv?.operations).toBe(before + 1);
  });

  it('on a frozen server (SIGSTOP): ends within the scan deadline, counted, reported and degraded; works again after', async () => {
    const cache = make();
    const events = operationsOf(cache);
    const errors = errorsOf(cache);
    expect(await cache.set('f:1', 1)).toBe(true);
    const kv = () => cache.processStats().byKind.kv!;
    const { operations, errors: failures } = kv();
    server.signal('SIGSTOP');
    const walk = await timed(() => collect(cache.scan('f:')));
    expect(walk.error, String(walk.error)).toBeUndefined();
    expect(walk.keys).toEqual([]);
    expect(walk.ms).toBeLessThan(SCAN_BOUND_MS);
    expect(errors).toEqual([expect.objectContaining({ operation: 'scan', kind: 'kv', error: expect.objectContaining({ code: 'E_TIMEOUT' }) })]);
    expect(events.filter((e) => e.operation === 'scan')).toEqual([expect.objectContaining({ ok: false })]);
    expect(kv().operations).toBe(operations + 1);
    expect(kv().errors).toBe(failures + 1);
    expect(cache.isDegraded).toBe(true);

    server.signal('SIGCONT');
    await vi.waitFor(async () => expect(await collect(cache.scan('f:'))).toEqual([cache.keys.key('kv', 'f:1').key]), { timeout: 20_000, interval: 100 });
    expect(cache.isDegraded).toBe(false);
  }, 30_000);

  it('strict: a frozen server makes the walk throw E_TIMEOUT within the scan deadline', async () => {
    const cache = make({ strict: true });
    expect(await cache.set('s:1', 1)).toBe(true);
    server.signal('SIGSTOP');
    const walk = await timed(() => collect(cache.scan('s:')));
    expect(walk.ms).toBeLessThan(SCAN_BOUND_MS);
    expect(FinRiskCacheError.isInstance(walk.error) && walk.error.code).toBe('E_TIMEOUT');
  }, 30_000);

  it('a failing scan trips the circuit breaker, and an open circuit ends the next walk without a round trip', async () => {
    const cache = make({ breakerThreshold: 1, breakerCooldownMs: 60_000 });
    const errors = errorsOf(cache);
    expect(await cache.set('b:1', 1)).toBe(true);
    server.signal('SIGSTOP');
    await collect(cache.scan('b:'));
    expect(cache.circuitState).toBe('open');
    server.signal('SIGCONT');
    // The server answers again and holds b:1, but the circuit keeps calls away until its
    // cooldown ends: no keys, and no new failure to report.
    expect(await collect(cache.scan('b:'))).toEqual([]);
    expect(errors).toHaveLength(1);

    const strict = make({ strict: true, breakerThreshold: 1, breakerCooldownMs: 60_000 });
    expect(await strict.set('b:2', 2)).toBe(true);
    server.signal('SIGSTOP');
    await collect(strict.scan('b:')).catch(() => undefined);
    expect(strict.circuitState).toBe('open');
    server.signal('SIGCONT');
    const thrown = await timed(() => collect(strict.scan('b:')));
    expect(thrown.error).toMatchObject({ code: 'E_REDIS_UNAVAILABLE', message: expect.stringMatching(/circuit open/) });
  }, 30_000);
});
