import { createCache, type Cache } from '@finrisk/cache-core';
import { startRedisServer, type RedisServer } from '@finrisk/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';

let redis: RedisServer;
let cache: Cache;
let app: FastifyInstance;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

beforeEach(async () => {
  redis.cli('FLUSHALL');
  // A command deadline a loaded machine meets: with the default 250 ms a read that misses it is a
  // recomputation, and the tests below count hits and misses.
  cache = createCache({ url: redis.url, backend: 'redis', envFile: false, commandTimeoutMs: 5000 });
  app = await buildApp({ cache });
});
afterEach(async () => {
  await app.close();
  await cache.close();
});

async function score(id: string, model: 'credit' | 'fraud' = 'credit') {
  const res = await app.inject({ method: 'GET', url: `/v1/customers/${encodeURIComponent(id)}/${model}-risk` });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

describe('scoring', () => {
  it('computes a prediction on the first call and serves it from Redis after', async () => {
    const first = await score('CUST001');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ customerId: 'CUST001', model: 'credit', modelVersion: 'v1', computed: true });
    expect(first.body.riskScore).toBeGreaterThan(0);
    expect(first.body.riskScore).toBeLessThan(1);

    const second = await score('CUST001');
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ ...first.body, computed: false });
    // The hit was a real read of Redis: the key is there and the cache counted the hit.
    expect(Number(redis.cli('DBSIZE'))).toBeGreaterThan(0);
    expect(cache.processStats().byKind.prediction?.hits).toBe(1);
  });

  it('gives the same scores when computed again from scratch (deterministic toy model)', async () => {
    const credit = await score('CUST042', 'credit');
    const fraud = await score('CUST042', 'fraud');
    redis.cli('FLUSHALL');
    const app2 = await buildApp({ cache, useCache: false });
    const again = await app2.inject({ url: '/v1/customers/CUST042/credit-risk' });
    await app2.close();
    expect(again.json()).toEqual(credit.body);
    expect(fraud.body.model).toBe('fraud');
    expect(fraud.body.riskScore).not.toBe(credit.body.riskScore);
  });

  it('shares features between the two models of a customer', async () => {
    await score('CUST007', 'credit');
    await score('CUST007', 'fraud');
    expect(cache.processStats().byKind.feature).toMatchObject({ hits: 1, writes: 1 });
  });

  it('never touches the cache with useCache: false', async () => {
    const direct = await buildApp({ cache, useCache: false });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await direct.inject({ url: '/v1/customers/CUST100/fraud-risk' });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ computed: true });
      }
      expect(redis.cli('DBSIZE')).toBe('0');
    } finally {
      await direct.close();
    }
  });

  it('answers 400 with a clear message for a bad customer id', async () => {
    for (const id of ['bad id', 'a'.repeat(65), 'x:y', '*']) {
      const res = await score(id);
      expect(res.status, id).toBe(400);
      expect(res.body.message).toMatch(/invalid customer id/);
      expect(res.body.message).toMatch(/1 to 64 letters/);
    }
    expect(redis.cli('DBSIZE')).toBe('0');
  });
});

describe('model deploys', () => {
  it('invalidates the model\'s predictions and serves the new version', async () => {
    const before = await score('CUST001', 'credit');
    const fraudBefore = await score('CUST001', 'fraud');
    expect(before.body.modelVersion).toBe('v1');

    const deploy = await app.inject({ method: 'POST', url: '/v1/models/credit/versions/v2.0.0' });
    expect(deploy.statusCode).toBe(200);
    expect(deploy.json()).toEqual({ model: 'credit', version: 'v2.0.0', previousVersion: 'v1', invalidated: true });

    const after = await score('CUST001', 'credit');
    expect(after.body).toMatchObject({ modelVersion: 'v2.0.0', computed: true });
    expect((await score('CUST001', 'credit')).body).toMatchObject({ modelVersion: 'v2.0.0', computed: false });
    // The other model is untouched.
    expect((await score('CUST001', 'fraud')).body).toEqual({ ...fraudBefore.body, computed: false });
  });

  it('makes another replica\'s cached predictions of the model misses too (generation in Redis)', async () => {
    const cache2 = createCache({ url: redis.url, backend: 'redis', envFile: false, commandTimeoutMs: 5000 });
    const replica = await buildApp({ cache: cache2 });
    try {
      await score('CUST003', 'fraud');
      expect((await replica.inject({ url: '/v1/customers/CUST003/fraud-risk' })).json()).toMatchObject({ computed: false });
      await app.inject({ method: 'POST', url: '/v1/models/fraud/versions/v1' }); // same version, fresh start
      expect((await replica.inject({ url: '/v1/customers/CUST003/fraud-risk' })).json()).toMatchObject({ computed: true });
    } finally {
      await replica.close();
      await cache2.close();
    }
  });

  it('refuses an unknown model (404) and a bad version (400)', async () => {
    const unknown = await app.inject({ method: 'POST', url: '/v1/models/churn/versions/v2' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/unknown model "churn"/);
    const bad = await app.inject({ method: 'POST', url: `/v1/models/credit/versions/${encodeURIComponent('v 2')}` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/invalid model version/);
    expect((await score('CUST001')).body.modelVersion).toBe('v1');
  });
});

describe('health and metrics', () => {
  it('is healthy with Redis up, 503 when Redis is killed while predictions still answer, healthy again after', async () => {
    await score('CUST001');
    const up = await app.inject({ url: '/healthz' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toMatchObject({ status: 'healthy', backend: 'redis' });

    await redis.kill();
    try {
      const down = await app.inject({ url: '/healthz' });
      expect(down.statusCode).toBe(503);
      expect(down.json().status).not.toBe('healthy');
      expect(typeof down.json().error).toBe('string');

      // Cached before the kill, but Redis is gone: computed again, still 200.
      for (const id of ['CUST001', 'CUST002']) {
        const res = await score(id);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ customerId: id, modelVersion: 'v1', computed: true });
      }
      const deploy = await app.inject({ method: 'POST', url: '/v1/models/credit/versions/v3' });
      expect(deploy.statusCode).toBe(200);
      expect(deploy.json()).toMatchObject({ invalidated: false });
      expect((await score('CUST002')).body).toMatchObject({ modelVersion: 'v3', computed: true });
    } finally {
      await redis.restart();
    }
    await expect.poll(async () => (await app.inject({ url: '/healthz' })).statusCode, { timeout: 10_000, interval: 100 }).toBe(200);
  });

  it('exposes the cache metrics as Prometheus text', async () => {
    await score('CUST001');
    await score('CUST001');
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^finrisk_cache_hits_total\{kind="prediction"\} 1$/m);
    expect(res.body).toMatch(/^finrisk_cache_misses_total\{kind="prediction"\} 1$/m);
    expect(res.body).toMatch(/^finrisk_cache_degraded\{backend="redis"\} 0$/m);
    expect(res.body).toMatch(/^finrisk_cache_operation_duration_seconds_count\{kind="prediction",operation="[a-zA-Z]+",outcome="ok"\} \d+$/m);
  });
});
