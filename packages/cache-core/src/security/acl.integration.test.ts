// Authentication against real redis-server processes: a password (requirepass), and a
// least-privilege ACL user that the SDK (cache-core and cache-ml) and the CLI work under. The users
// are SECURITY.md's recipes (@finrisk/test-utils' acl-recipes, from which SECURITY.md is written),
// for the server that runs: FINRISK_REDIS_SERVER may be Redis 7.0, 7.4 or Valkey 8.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { aclSetUser, startRedisServer, type RedisServer } from '@finrisk/test-utils';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache } from '../cache.js';
import { FinRiskCacheError } from '../errors.js';
import { createSessionStore } from '../session.js';
import { errorsOf } from '../../test/error-events.js';

const APP_USER = 'finrisk-app';
const APP_PASSWORD = 'app-pw-Zq81x';
const ADMIN_PASSWORD = 'admin-pw-Kf02m';
const cliBin = fileURLToPath(new URL('../../../../apps/finrisk-cache/dist/finrisk-cache.js', import.meta.url));
const mlDist = fileURLToPath(new URL('../../../cache-ml/dist/index.js', import.meta.url));

/** The part of cache-ml's MlCache this flow uses. */
interface MlFlow {
  cacheModelPrediction(customerId: string, modelType: string, prediction: object): Promise<boolean>;
  getCachedPrediction(customerId: string, modelType: string): Promise<object | null>;
  cachePredictionsMany(entries: { customerId: string; modelType: string; prediction: object }[]): Promise<boolean>;
  getCachedPredictions(customerIds: string[], modelType: string): Promise<(object | null)[]>;
  getOrComputePrediction(customerId: string, modelType: string, compute: () => Promise<object>): Promise<object>;
  invalidateModelPredictions(modelType: string): Promise<boolean>;
  cacheFeatures(customerId: string, features: object): Promise<boolean>;
  getCachedFeatures(customerId: string): Promise<object | null>;
  cacheModelArtifacts(modelName: string, version: string, artifacts: unknown): Promise<boolean>;
  clearPredictionCache(customerId?: string): Promise<{ count: number; complete: boolean }>;
  clearFeatureCache(customerId?: string): Promise<{ count: number; complete: boolean }>;
  clearModelCache(modelName?: string): Promise<{ count: number; complete: boolean }>;
  drain(): Promise<void>;
}

function runBinary(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', ...env },
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('password (requirepass)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ args: ['--requirepass', ADMIN_PASSWORD], password: ADMIN_PASSWORD });
  });
  afterAll(() => server.stop());

  it('works with the right password, from REDIS_PASSWORD and from the URL', async () => {
    for (const options of [{ env: { REDIS_URL: server.url, REDIS_PASSWORD: ADMIN_PASSWORD } }, { url: `redis://:${ADMIN_PASSWORD}@127.0.0.1:${server.port}` }]) {
      const cache = createCache({ backend: 'redis', envFile: false, env: {}, ...options });
      try {
        expect(await cache.set('k', 1)).toBe(true);
        expect(await cache.get('k')).toBe(1);
        expect((await cache.checkConnection()).ok).toBe(true);
      } finally {
        await cache.close();
      }
    }
  });

  it('without or with a wrong password: E_REDIS_UNAVAILABLE naming the credentials, never the password', async () => {
    for (const url of [`redis://:wrong-${APP_PASSWORD}@127.0.0.1:${server.port}`, server.url]) {
      const cache = createCache({ url, backend: 'redis', strict: true, envFile: false, env: {}, connectTimeoutMs: 500 });
      const events = errorsOf(cache);
      const degraded: FinRiskCacheError[] = [];
      cache.on('degraded', (e) => degraded.push(e.error));
      try {
        const error = await cache.get('k').catch((e: unknown) => e);
        expect(FinRiskCacheError.hasCode(error, 'E_REDIS_UNAVAILABLE')).toBe(true);
        const check = await cache.checkConnection();
        expect(check.ok).toBe(false);
        expect(check.code).toBe('E_REDIS_UNAVAILABLE');
        for (const message of [(error as Error).message, check.error!, ...degraded.map((e) => e.message)]) {
          expect(message).toMatch(/WRONGPASS|NOAUTH/);
          expect(message).toMatch(/credentials/);
          expect(message).toMatch(/REDIS_PASSWORD/);
        }
        const everything = JSON.stringify([String((error as Error).stack), (error as Error).message, check, events.map((e) => e.error.message), degraded.map((e) => e.message)]);
        expect(everything).not.toContain(APP_PASSWORD);
      } finally {
        await cache.close();
      }
    }
  });
});

describe('a least-privilege ACL user', () => {
  let server: RedisServer;
  const appUrl = () => `redis://${APP_USER}:${APP_PASSWORD}@127.0.0.1:${server.port}`;
  const aclLog = () => server.cli('ACL', 'LOG');

  beforeAll(async () => {
    server = await startRedisServer();
    expect(server.cli(...aclSetUser('app', server.identity(), { name: APP_USER, password: APP_PASSWORD }))).toBe('OK');
    // Keys outside the prefix, which the user must not be able to touch.
    server.cli('SET', 'other-app:secret', 'theirs');
    server.cli('ACL', 'LOG', 'RESET');
  });
  afterAll(() => server.stop());

  it('runs the cache-core flow without a single denied command', async () => {
    const cache = createCache({ url: appUrl(), backend: 'redis', strict: true, envFile: false, env: {}, commandTimeoutMs: 5000 });
    try {
      expect((await cache.checkConnection()).ok).toBe(true);
      expect(await cache.set('user:1', { score: 0.5, at: new Date(0) })).toBe(true);
      expect(await cache.get('user:1')).toEqual({ score: 0.5, at: new Date(0) });
      expect(await cache.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 60 }])).toBe(true);
      expect(await cache.getMany(['a', 'b', 'missing'])).toEqual([1, 2, null]);
      expect(await cache.exists('a')).toBe(true);
      expect(await cache.ttl('b')).toBe(60);
      expect(await cache.expire('a', 30)).toBe(true);
      expect(await cache.getAndTouch('a', { ttl: 40 })).toBe(1);
      expect(await cache.setIfAbsent('lock', 'token-1', { ttl: 5 })).toBe(true);
      expect(await cache.setIfAbsent('lock', 'token-2', { ttl: 5 })).toBe(false);
      expect(await cache.deleteIfEquals('lock', 'token-1')).toBe(true);
      expect(await cache.incr('counter')).toBe(1);
      expect(await cache.getCounter('counter')).toBe(1);
      const sessions = createSessionStore(cache, { ttl: 60 });
      expect(await sessions.set('s1', { user: 'ana' })).toBe(true);
      expect(await sessions.get('s1')).toEqual({ user: 'ana' });
      expect(await sessions.touch('s1')).toBe(true);
      expect(await sessions.delete('s1')).toBe(true);
      // Left: user:1, a, b and counter (the lock and the session were deleted).
      expect(await cache.countByPrefix('')).toEqual({ count: 4, complete: true });
      expect(await cache.deleteByPrefix('')).toEqual({ count: 4, complete: true });
      expect(await cache.countByPrefix('')).toEqual({ count: 0, complete: true });
      expect(await cache.delete('user:1')).toBe(false);
      const stats = await cache.stats();
      expect(stats.status).toBe('healthy');
      // INFO was allowed and read: a bare Redis version, or Valkey's own (`valkey 8.0.1`).
      expect(stats.serverVersion).toMatch(/^(valkey )?\d+\.\d+/);
      // Fleet statistics: published with SET and ZADD, read through the index and GETRANGE.
      expect(await cache.publishStats()).toBe(true);
      expect((await cache.fleetStats())!.instances).toHaveLength(1);
    } finally {
      await cache.close();
    }
    expect(aclLog()).toBe('');
  });

  it('runs L1 with +hello +client|tracking added, and without them says why and reads from Redis', async () => {
    const l1User = `${APP_USER}-l1`;
    expect(server.cli(...aclSetUser('l1', server.identity(), { name: l1User, password: APP_PASSWORD }))).toBe('OK');
    server.cli('ACL', 'LOG', 'RESET');
    const url = `redis://${l1User}:${APP_PASSWORD}@127.0.0.1:${server.port}`;
    const cache = createCache({ url, backend: 'redis', strict: true, envFile: false, env: {}, l1: { maxMb: 8 } });
    try {
      await cache.connect();
      for (let i = 0; cache.processStats().l1?.serving !== true; i++) {
        if (i > 500) throw new Error(`L1 never served under the ACL; ACL LOG: ${aclLog()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const key = cache.keys.key('feature', 'ACL1');
      expect(await cache.set(key, { v: 1 })).toBe(true);
      await cache.syncLocal();
      await cache.get(key);
      expect(await cache.get(key)).toEqual({ v: 1 });
      expect(cache.processStats().byKind.feature?.l1Hits).toBe(1);
      expect(await cache.delete(key)).toBe(true); // the other tests count the keys under the prefix
    } finally {
      await cache.close();
    }
    expect(aclLog()).toBe('');

    // The minimal ACL alone: L1 cannot enable tracking, says so, and every read goes to Redis.
    const plain = createCache({ url: appUrl(), backend: 'redis', envFile: false, env: {}, l1: { maxMb: 8 } });
    const errors = errorsOf(plain);
    try {
      const key = plain.keys.key('feature', 'ACL2');
      expect(await plain.set(key, { v: 2 })).toBe(true);
      for (let i = 0; !errors.some((e) => e.operation === 'l1'); i++) {
        if (i > 500) throw new Error('no error event said why L1 is off');
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(errors.find((e) => e.operation === 'l1')!.error.message).toMatch(/L1 is not serving.*(HELLO|CLIENT TRACKING|NOPERM)/);
      expect(await plain.get(key)).toEqual({ v: 2 });
      expect(await plain.get(key)).toEqual({ v: 2 });
      expect(plain.processStats().l1?.serving).toBe(false);
      expect(plain.processStats().byKind.feature?.l1Hits ?? 0).toBe(0);
      expect(await plain.delete(key)).toBe(true);
    } finally {
      await plain.close();
    }
    server.cli('ACL', 'LOG', 'RESET');
  });

  it('runs the cache-ml flow (generations, read-through with a lock, clears) with no denied command but CLIENT TRACKING', async () => {
    expect(existsSync(mlDist), `${mlDist} is missing: run pnpm build first`).toBe(true);
    // Loaded by path, untyped: cache-core does not depend on cache-ml (typecheck must not need its build).
    const { createMlCache } = (await import(mlDist)) as { createMlCache: (cache: Cache, options: object) => MlFlow };
    const cache = createCache({ url: appUrl(), backend: 'redis', strict: true, envFile: false, env: {}, commandTimeoutMs: 5000 });
    const errors = errorsOf(cache);
    // cache-ml is built against its installed cache-core; the classes are the same code.
    const ml = createMlCache(cache, { lock: { ttlMs: 2000, waitMs: 2000, pollMs: 20 } });
    try {
      expect(await ml.cacheModelPrediction('CUST001', 'credit', { risk_score: 0.7, model_version: 'v1' })).toBe(true);
      expect(await ml.getCachedPrediction('CUST001', 'credit')).toMatchObject({ risk_score: 0.7 });
      expect(await ml.cachePredictionsMany([{ customerId: 'CUST002', modelType: 'credit', prediction: { risk_score: 0.1 } }])).toBe(true);
      expect(await ml.getCachedPredictions(['CUST001', 'CUST002', 'CUST003'], 'credit')).toEqual([
        { risk_score: 0.7, model_version: 'v1' }, { risk_score: 0.1 }, null,
      ]);
      let computed = 0;
      const compute = async () => {
        computed++;
        await new Promise((r) => setTimeout(r, 50));
        return { risk_score: 0.9 };
      };
      const results = await Promise.all([1, 2, 3].map(() => ml.getOrComputePrediction('CUST009', 'fraud', compute)));
      expect(results).toEqual([{ risk_score: 0.9 }, { risk_score: 0.9 }, { risk_score: 0.9 }]);
      expect(computed).toBe(1);
      // The cross-process lock was taken (SET NX) and released by its owner (EVAL compare-and-delete).
      expect(server.cli('INFO', 'commandstats')).toMatch(/cmdstat_eval:calls=[1-9]/);
      // A new generation makes every cached prediction of the model a miss.
      expect(await ml.invalidateModelPredictions('credit')).toBe(true);
      expect(await ml.getCachedPrediction('CUST001', 'credit')).toBeNull();
      expect(await ml.cacheFeatures('CUST001', { age: 35 })).toBe(true);
      expect(await ml.getCachedFeatures('CUST001')).toEqual({ age: 35 });
      expect(await ml.cacheModelArtifacts('m', 'v1', { weights: [1, 2] })).toBe(true);
      expect(await ml.clearPredictionCache('CUST009')).toEqual({ count: 1, complete: true });
      // CUST001's and CUST002's credit predictions: invalidated (a new generation), not yet deleted.
      expect(await ml.clearPredictionCache()).toEqual({ count: 2, complete: true });
      expect(await ml.clearFeatureCache()).toEqual({ count: 1, complete: true });
      expect(await ml.clearModelCache()).toEqual({ count: 1, complete: true });
      await ml.drain();
    } finally {
      await cache.close();
    }
    expect(errors).toEqual([]);
    // cache-ml watches its generation tokens through CLIENT TRACKING, which this role does not
    // grant (the `l1` role does): the one thing refused is that, and cache-ml writes each
    // prediction with its token read back instead. Nothing else may be denied.
    const log = aclLog();
    const denied = log.split('\n').flatMap((line, i, lines) => (line === 'object' ? [lines[i + 1]] : []));
    expect(new Set(denied), log).toEqual(new Set(['client|tracking']));
    server.cli('ACL', 'LOG', 'RESET');
  });

  it('runs the CLI (check, config, stats, cache-pred, get-pred, clear-pred) without a denied command', async () => {
    expect(existsSync(cliBin), `${cliBin} is missing: run pnpm build first`).toBe(true);
    // A command deadline a loaded machine meets (the default 250 ms is missed now and then under load).
    const env = { REDIS_URL: appUrl(), CACHE_BACKEND: 'redis', CACHE_COMMAND_TIMEOUT_MS: '5000' };
    const run = async (...args: string[]) => {
      const result = await runBinary(args, env);
      expect(result.code, `finrisk-cache ${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result.stdout;
    };
    // Not /ok|reachable/i: "not reachable" and "broken" would match that.
    expect(await run('check')).toMatch(/^OK {2}Redis at redis:\/\/finrisk-app:\*\*\*@127\.0\.0\.1:\d+\S* answered in /);
    expect((await run('cache-pred', 'CUST001', 'credit', '{"risk_score": 0.75}')).trim()).toBe('Cached credit prediction for CUST001 (expires in 1h)');
    expect(JSON.parse(await run('--json', 'get-pred', 'CUST001', 'credit'))).toMatchObject({ found: true, prediction: { risk_score: 0.75 } });
    expect(await run('--json', 'stats')).toContain('"status"');
    expect(await run('stats')).toMatch(/Hit Rate/i);
    expect((await run('clear-pred', '--customer', 'CUST001')).trim()).toBe('Deleted 1 key (predictions of CUST001)');
    expect((await runBinary(['get-pred', 'CUST001', 'credit'], env)).code).toBe(1);
    expect(await run('config')).toMatch(/^REDIS_URL\s+redis:\/\/finrisk-app:\*\*\*@127\.0\.0\.1:\d+\s+environment$/m);
    expect(aclLog()).toBe('');
  }, 120_000); // nine CLI processes in a row: on a loaded two-core machine one took up to 7 s to start

  it('denies KEYS, FLUSHDB, CONFIG and keys outside the prefix to that user', async () => {
    const client = createClient({ url: appUrl() });
    client.on('error', () => {});
    await client.connect();
    try {
      for (const command of [['KEYS', '*'], ['FLUSHDB'], ['FLUSHALL'], ['CONFIG', 'GET', 'maxmemory'], ['GET', 'other-app:secret'], ['SET', 'other-app:x', '1']]) {
        await expect(client.sendCommand(command), command.join(' ')).rejects.toThrow(/NOPERM/);
      }
      // Through the SDK: a denied command is reported with the ACL named, and the secret is not read.
      const cache = createCache({ url: appUrl(), backend: 'redis', keyPrefix: 'other-app', strict: true, envFile: false, env: {} });
      try {
        const error = await cache.get('secret').catch((e: unknown) => e);
        expect(FinRiskCacheError.isInstance(error) && error.message).toMatch(/NOPERM.*ACL/);
      } finally {
        await cache.close();
      }
    } finally {
      await client.close();
    }
    expect(server.cli('GET', 'other-app:secret')).toBe('theirs');
    expect(aclLog()).not.toBe('');
  });
});
