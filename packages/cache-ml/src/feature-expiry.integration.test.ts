import { existsSync } from 'node:fs';
import { createCache, type Cache } from '@finrisk/cache-core';
import { isAtLeast, SERVER_VARIABLE, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMlCache, type MlCache } from './ml-cache.js';

/**
 * Which mechanism expires a stale streaming feature: the server's own field expiry (HPEXPIRE,
 * Redis 7.4+), or on servers without it (7.0, the CI's; Valkey 8) the deadlines the SDK keeps in
 * the hash, checked at read and pruned on write. The suite's server (FINRISK_REDIS_SERVER) is
 * tested for the mechanism its version calls for; a Redis 7.4 is started besides when one is
 * built on this machine (FINRISK_REDIS_74_SERVER, else /opt/servers/redis-7.4.1), and the test
 * that needs it says it was skipped when it is not.
 */
const REDIS_74 = process.env.FINRISK_REDIS_74_SERVER || '/opt/servers/redis-7.4.1/bin/redis-server';
const has74 = existsSync(REDIS_74);
if (!has74) console.warn(`[feature-expiry] no Redis 7.4 at ${REDIS_74} (set FINRISK_REDIS_74_SERVER): the test of the server's own field expiry is skipped`);

/** A server started with `bin` (the variable test-utils reads, set for the start only). */
async function startWith(bin: string | undefined): Promise<RedisServer> {
  const saved = process.env[SERVER_VARIABLE];
  if (bin !== undefined) process.env[SERVER_VARIABLE] = bin;
  try {
    return await startRedisServer();
  } finally {
    if (saved === undefined) delete process.env[SERVER_VARIABLE];
    else process.env[SERVER_VARIABLE] = saved;
  }
}

function setup(bin: string | undefined) {
  const ctx = {} as { server: RedisServer; cache: Cache; ml: MlCache; raw: (...args: string[]) => Promise<unknown> };
  beforeAll(async () => {
    ctx.server = await startWith(bin);
    ctx.cache = createCache({ url: ctx.server.url, backend: 'redis', keyPrefix: uniquePrefix('fx'), envFile: false, env: {}, commandTimeoutMs: 5000 });
    ctx.ml = createMlCache(ctx.cache);
    const client = (await ctx.cache.getRedisClient())!;
    ctx.raw = (...args) => client.sendCommand(args);
  });
  afterAll(async () => {
    await ctx.cache?.close();
    await ctx.server?.stop();
  });
  return ctx;
}

/** Writes a batch vector and a streaming feature with a short TTL; waits until the feature reads as missing. */
async function streamAndWait(ml: MlCache, customer: string): Promise<void> {
  await ml.cacheFeatures(customer, { age: 35, income: 75000 }, { ttl: 600 });
  await ml.updateFeatures(customer, { txn_count_1h: 4 }, { ttl: 0.2 });
  expect(await ml.getCachedFeatures(customer)).toEqual({ age: 35, income: 75000, txn_count_1h: 4 });
  await vi.waitFor(async () => expect(await ml.getCachedFeatures(customer)).toEqual({ age: 35, income: 75000 }), { timeout: 5000, interval: 50 });
}

describe("per-feature expiry on the suite's server", () => {
  const ctx = setup(undefined);

  it('uses the mechanism the server calls for', async () => {
    const identity = ctx.server.identity();
    const native = identity.name === 'redis' && isAtLeast(identity.version, '7.4.0');
    await streamAndWait(ctx.ml, 'C1');
    const key = ctx.ml.keys.feature('C1').key;
    if (native) {
      // The server deleted the field itself: no deadlines of the SDK in the hash.
      expect(await ctx.raw('HEXISTS', key, 'txn_count_1h')).toBe(0);
      expect(await ctx.raw('HEXISTS', key, '\u0000exp')).toBe(0);
    } else {
      // The field is still on the server, with its deadline beside it; reads left it out, and the
      // next write of the customer prunes it.
      expect(await ctx.raw('HEXISTS', key, 'txn_count_1h')).toBe(1);
      expect(await ctx.raw('HEXISTS', key, '\u0000exp')).toBe(1);
      await ctx.ml.updateFeatures('C1', { last_txn_amount: 9.5 }, { ttl: 600 });
      expect(await ctx.raw('HEXISTS', key, 'txn_count_1h')).toBe(0);
    }
  });
});

describe.skipIf(!has74)(`per-feature expiry on Redis 7.4 (${REDIS_74})`, () => {
  const ctx = setup(REDIS_74);

  it("a stale streaming feature is expired by the server's own field expiry (HPEXPIRE)", async () => {
    expect(ctx.server.url).toBeTruthy();
    await ctx.ml.cacheFeatures('C2', { age: 35 }, { ttl: 600 });
    await ctx.ml.updateFeatures('C2', { txn_count_1h: 4 }, { ttl: 60 });
    const key = ctx.ml.keys.feature('C2').key;
    const [left] = (await ctx.raw('HPTTL', key, 'FIELDS', '1', 'txn_count_1h')) as number[];
    expect(left).toBeGreaterThan(50_000);
    expect(await ctx.raw('HEXISTS', key, '\u0000exp')).toBe(0);
    await streamAndWait(ctx.ml, 'C3');
    expect(await ctx.raw('HEXISTS', ctx.ml.keys.feature('C3').key, 'txn_count_1h')).toBe(0);
  });
});
