import { createCache } from '@finrisk/cache-core';
import { aclSetUser, startRedisServer, topologies, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMlCache, type MlCache } from './ml-cache.js';
import { startTestRedis, type TestRedis } from './test-redis.js';

// Generation tokens held through CLIENT TRACKING (generations.ts's HeldTokens): once a writer
// holds its model's token, a prediction write is the SET alone; a change to the token reported by
// Redis (a deploy, a DEL, FLUSHALL, a lost tracking connection) sends the writes back to reading
// the token, and no prediction written after the token vanished is left unreadable.

/** The tracking connections' client ids (flag B: BCAST tracking) in a CLIENT LIST. */
function trackingIds(list: string): string[] {
  return list
    .split('\n')
    .filter((line) => /\bflags=\S*B/.test(line))
    .map((line) => /\bid=(\d+)/.exec(line)![1]!);
}

describe.each(topologies)('held generation tokens on Redis ($name)', (topology) => {
  let redis: TestRedis;
  let n = 0;

  beforeAll(async () => {
    redis = await startTestRedis(topology);
  });
  afterAll(async () => {
    await redis.stop();
  });

  /** A writer (a token remembered for a minute: only Redis's invalidations may move it) and a reader, two processes' worth of caches. */
  function pair(): { writer: MlCache; reader: MlCache; prefix: string } {
    const prefix = uniquePrefix('held');
    return {
      writer: createMlCache(redis.cache({ keyPrefix: prefix, statsPublish: false }), { generationRefreshMs: 60_000 }),
      reader: createMlCache(redis.cache({ keyPrefix: prefix, statsPublish: false })),
      prefix,
    };
  }

  /** SETs, GETs and MGETs the masters counted so far (INFO commandstats: one redis-cli per master). */
  function counts(): { set: number; get: number; mget: number } {
    const total = { set: 0, get: 0, mget: 0 };
    for (const master of redis.deployment.masters()) {
      const info = master.cli('INFO', 'commandstats');
      for (const command of ['set', 'get', 'mget'] as const) total[command] += Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    }
    return total;
  }

  /** SETs, GETs and MGETs the server counted during `fn`. */
  async function commands(fn: () => Promise<unknown>): Promise<{ set: number; get: number; mget: number }> {
    const before = counts();
    await fn();
    const after = counts();
    return { set: after.set - before.set, get: after.get - before.get, mget: after.mget - before.mget };
  }

  /** Writes until a write of `modelType` costs one SET and nothing else: the writer holds the token (tracking is up). */
  async function untilHeld(writer: MlCache, modelType: string): Promise<void> {
    await vi.waitFor(
      async () => {
        const id = `warm${n++}`;
        expect(await commands(() => writer.cacheModelPrediction(id, modelType, { warm: true }))).toEqual({ set: 1, get: 0, mget: 0 });
      },
      { timeout: 10_000, interval: 20 },
    );
  }

  it('once the token is held, a prediction write is one SET: no token read, and every one is read back', async () => {
    const { writer, reader } = pair();
    await untilHeld(writer, 'credit');
    const ids = Array.from({ length: 50 }, (_, i) => `C${i}`);
    const sequential = await commands(async () => {
      for (const [i, id] of ids.entries()) expect(await writer.cacheModelPrediction(id, 'credit', { i })).toBe(true);
    });
    expect(sequential).toEqual({ set: 50, get: 0, mget: 0 });
    const inFlight = await commands(async () => {
      expect(await Promise.all(ids.map((id, i) => writer.cacheModelPrediction(`P${id}`, 'credit', { i })))).toEqual(ids.map(() => true));
    });
    expect(inFlight).toEqual({ set: 50, get: 0, mget: 0 });
    expect(await reader.getCachedPredictions(ids, 'credit')).toEqual(ids.map((_, i) => ({ i })));
    expect(await reader.getCachedPredictions(ids.map((id) => `P${id}`), 'credit')).toEqual(ids.map((_, i) => ({ i })));
    // A batch of two model types, both held: a pipeline of SETs alone.
    await untilHeld(writer, 'fraud');
    const batch = ids.slice(0, 10).map((id, i) => ({ customerId: `B${id}`, modelType: i % 2 ? 'credit' : 'fraud', prediction: { i } }));
    expect(await commands(() => writer.cachePredictionsMany(batch))).toEqual({ set: 10, get: 0, mget: 0 });
    for (const e of batch) expect(await reader.getCachedPrediction(e.customerId, e.modelType)).toEqual(e.prediction);
  });

  it('MlCaches made on one cache share one tracking connection per master', async () => {
    const tracking = () => redis.deployment.masters().reduce((n, master) => n + trackingIds(master.cli('CLIENT', 'LIST')).length, 0);
    const before = tracking();
    const cache = redis.cache({ keyPrefix: uniquePrefix('shared'), statsPublish: false });
    const mls = [createMlCache(cache), createMlCache(cache), createMlCache(cache)];
    for (const ml of mls) await untilHeld(ml, 'credit');
    expect(tracking() - before).toBe(redis.deployment.masters().length);
  });

  it('a read stays the token and the prediction read together (MGET), so a redeploy is seen at once', async () => {
    const { writer, reader } = pair();
    await untilHeld(writer, 'credit');
    expect(await writer.cacheModelPrediction('R1', 'credit', { s: 1 })).toBe(true);
    const mgets = await redis.mgetsFor([writer.keys.generation('credit'), writer.keys.prediction('R1', 'credit')]);
    expect(await commands(async () => expect(await writer.getCachedPrediction('R1', 'credit')).toEqual({ s: 1 }))).toEqual({ set: 0, get: 0, mget: mgets });
    // Another process's redeploy has resolved: the writer, which holds the old token and may not
    // have applied the invalidation yet, already reads a miss.
    expect(await reader.invalidateModelPredictions('credit')).toBe(true);
    expect(await writer.getCachedPrediction('R1', 'credit')).toBeNull();
  });

  it("another process's deploy: the write racing it stays unreadable, and the next goes under the new token", async () => {
    const { writer, reader } = pair();
    await untilHeld(writer, 'deploy');
    expect(await reader.invalidateModelPredictions('deploy')).toBe(true);
    // The writer held the old token: its write lands under it and is not rewritten under the new one.
    expect(await writer.cacheModelPrediction('D1', 'deploy', { s: 'old model' })).toBe(true);
    expect(await reader.getCachedPrediction('D1', 'deploy')).toBeNull();
    // The invalidation was applied during that write: from then on, the new token.
    expect(await writer.cacheModelPrediction('D2', 'deploy', { s: 'new model' })).toBe(true);
    expect(await reader.getCachedPrediction('D2', 'deploy')).toEqual({ s: 'new model' });
    await untilHeld(writer, 'deploy');
    expect(await writer.cacheModelPrediction('D3', 'deploy', { s: 'new model' })).toBe(true);
    expect(await reader.getCachedPrediction('D3', 'deploy')).toEqual({ s: 'new model' });
  });

  it.each(['DEL', 'FLUSHALL'])('the held token vanishes (%s): the very next write is read back, under a fresh token', async (how) => {
    const { writer, reader } = pair();
    await untilHeld(writer, 'gone');
    expect(await writer.cacheModelPrediction('G1', 'gone', { s: 1 })).toBe(true);
    if (how === 'DEL') redis.cli('DEL', writer.keys.generation('gone').key);
    else for (const master of redis.deployment.masters()) master.cli('FLUSHALL');
    // Nothing awaited in between: the writer has not applied the invalidation when it sends the SET.
    expect(await writer.cacheModelPrediction('G2', 'gone', { s: 2 })).toBe(true);
    expect(await reader.getCachedPrediction('G2', 'gone')).toEqual({ s: 2 });
    expect(await reader.getCachedPrediction('G1', 'gone')).toBeNull();
    expect(await writer.cachePredictionsMany([{ customerId: 'G3', modelType: 'gone', prediction: { s: 3 } }])).toBe(true);
    expect(await reader.getCachedPrediction('G3', 'gone')).toEqual({ s: 3 });
    await untilHeld(writer, 'gone');
  });

  it('a killed tracking connection: writes read their token back until tracking is back, and a DEL made meanwhile loses nothing', async () => {
    const { writer, reader } = pair();
    await untilHeld(writer, 'kill');
    let killed = 0;
    for (const master of redis.deployment.masters()) {
      for (const id of trackingIds(master.cli('CLIENT', 'LIST'))) {
        master.cli('CLIENT', 'KILL', 'ID', id);
        killed++;
      }
    }
    expect(killed).toBeGreaterThan(0);
    // The invalidation of this DEL is lost with the connection.
    redis.cli('DEL', writer.keys.generation('kill').key);
    expect(await writer.cacheModelPrediction('K1', 'kill', { s: 1 })).toBe(true);
    expect(await reader.getCachedPrediction('K1', 'kill')).toEqual({ s: 1 });
    await untilHeld(writer, 'kill');
    expect(await writer.cacheModelPrediction('K2', 'kill', { s: 2 })).toBe(true);
    expect(await reader.getCachedPrediction('K2', 'kill')).toEqual({ s: 2 });
  });
});

describe('where tracking is unavailable, every write reads its token back', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  const calls = (command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(server.cli('INFO', 'commandstats'))?.[1] ?? 0);

  it('an ACL without +client|tracking: one warning, and each write is a SET and its token read back', async () => {
    const prefix = uniquePrefix('acl');
    server.cli(...aclSetUser('app', server.identity(), { name: 'ml-app', password: 'app-secret' }, { prefix }));
    const warnings: string[] = [];
    const url = `redis://ml-app:app-secret@127.0.0.1:${server.port}`;
    const cache = createCache({ url, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, commandTimeoutMs: 5000, statsPublish: false, logger: { warn: (m) => warnings.push(m) } });
    const ml = createMlCache(cache, { generationRefreshMs: 60_000 });
    try {
      expect(await ml.cacheModelPrediction('A0', 'credit', { s: 0 })).toBe(true);
      expect(await ml.cacheModelPrediction('A1', 'credit', { s: 1 })).toBe(true); // the second write starts the watch
      await vi.waitFor(() => expect(warnings.join('\n')).toMatch(/watch of .*generation:prediction: is down.*client\|tracking/), { timeout: 10_000 });
      const before = { set: calls('set'), mget: calls('mget') };
      for (let i = 2; i < 22; i++) expect(await ml.cacheModelPrediction(`A${i}`, 'credit', { s: i })).toBe(true);
      expect({ set: calls('set') - before.set, mget: calls('mget') - before.mget }).toEqual({ set: 20, mget: 20 });
      // The token vanishes: the next write still notices it.
      server.cli('DEL', ml.keys.generation('credit').key);
      expect(await ml.cacheModelPrediction('A30', 'credit', { s: 30 })).toBe(true);
      expect(await ml.getCachedPrediction('A30', 'credit')).toEqual({ s: 30 });
      expect(warnings.filter((w) => /watch of/.test(w))).toHaveLength(1);
    } finally {
      await cache.close();
    }
  });

  it('the memory store: no watch, and a deploy and a vanished token behave as on Redis', async () => {
    const cache = createCache({ backend: 'memory', envFile: false, env: {} });
    const ml = createMlCache(cache, { generationRefreshMs: 60_000 });
    try {
      const watch = cache.watchPrefix(ml.keys.generationPrefix());
      for (let i = 0; i < 5; i++) expect(await ml.cacheModelPrediction(`M${i}`, 'credit', { i })).toBe(true);
      expect(watch.isUp).toBe(false);
      expect(await ml.invalidateModelPredictions('credit')).toBe(true);
      expect(await ml.getCachedPrediction('M0', 'credit')).toBeNull();
      expect(await ml.cacheModelPrediction('M9', 'credit', { i: 9 })).toBe(true);
      expect(await ml.getCachedPrediction('M9', 'credit')).toEqual({ i: 9 });
      await cache.delete(ml.keys.generation('credit'));
      expect(await ml.cacheModelPrediction('M10', 'credit', { i: 10 })).toBe(true);
      expect(await ml.getCachedPrediction('M10', 'credit')).toEqual({ i: 10 });
    } finally {
      await cache.close();
    }
  });
});
