// Every public operation of Cache against a server that accepts connections and never answers:
// redis-server stopped with SIGSTOP (one server, every node of a cluster, a sentinel group's
// master) and the fault proxy of test-utils in front of one server (pause, latency, black hole,
// cut). Each operation ends within its stated bound with a miss, false or a clear error, close()
// included, and the same cache works again once the server answers. The bounds are the
// configured deadlines plus generous slack: what they catch is a hang, not slowness.
import {
  startFaultProxy,
  startRedisCluster,
  startRedisSentinel,
  startRedisServer,
  uniquePrefix,
  type FaultProxy,
  type RedisCluster,
  type RedisSentinelGroup,
  type RedisServer,
  type TopologyConnection,
} from '@finrisk/test-utils';
import { until } from '@finrisk/test-utils/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from '../cache.js';
import { FinRiskCacheError } from '../errors.js';
import { errorsOf } from '../../test/error-events.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The deadlines under test (short, so that the suite is quick; the bounds below derive from them). */
const DEADLINES = { commandTimeoutMs: 200, scanTimeoutMs: 400, closeTimeoutMs: 400, connectTimeoutMs: 500 } as const;
/** Slack over each stated bound for a loaded 2-core machine. */
const SLACK_MS = 5000;
/** The bound each kind of operation is held to: its deadline, as documented, plus slack. */
const BOUND_MS = {
  command: DEADLINES.commandTimeoutMs + SLACK_MS,
  scan: DEADLINES.scanTimeoutMs + SLACK_MS,
  // a cluster's INFO has a deadline of at least 2 s after the PING's
  stats: DEADLINES.commandTimeoutMs + 2000 + SLACK_MS,
  // the graceful wait, then the wait for the drop
  close: 2 * DEADLINES.closeTimeoutMs + SLACK_MS,
  // a cache created while the server is frozen waits for its first connection before failing fast
  firstCall: DEADLINES.connectTimeoutMs + DEADLINES.commandTimeoutMs + SLACK_MS,
} as const;
const CONNECTION_CODES = ['E_TIMEOUT', 'E_REDIS_UNAVAILABLE'];
/** What a bulk operation answers when the backend did not: nothing done, not complete, and why. */
const FAILED_BULK = { count: 0, complete: false, error: expect.objectContaining({ code: expect.toBeOneOf(CONNECTION_CODES) }) };

/** The longest time each operation took against a frozen server, over every scenario (printed at the end). */
const slowest = new Map<string, number>();

/** Runs `fn` and fails the test if it has not ended within `boundMs`; its value or its error otherwise. */
async function bounded<T>(label: string, boundMs: number, fn: () => Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not end within ${boundMs} ms`)), boundMs);
  });
  try {
    const outcome = await Promise.race([fn().then((value) => ({ value }), (error: unknown) => ({ error })), hang]);
    const ms = performance.now() - start;
    slowest.set(label, Math.max(slowest.get(label) ?? 0, ms));
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

interface Operation {
  name: string;
  bound: keyof typeof BOUND_MS;
  run(cache: Cache): Promise<unknown>;
  /** What a cache that is not strict answers while the server does not. */
  answer: unknown;
  /** false for the two operations that report instead of throwing, strict or not. */
  throwsWhenStrict: boolean;
}

const collect = async (iterable: AsyncIterable<string[]>) => {
  const batches: string[][] = [];
  for await (const batch of iterable) batches.push(batch);
  return batches;
};

/** Every public operation of Cache but close (which each scenario calls last). */
const OPERATIONS: Operation[] = [
  { name: 'get', bound: 'command', run: (c) => c.get('seed:a'), answer: null, throwsWhenStrict: true },
  { name: 'set', bound: 'command', run: (c) => c.set('written', 1), answer: false, throwsWhenStrict: true },
  { name: 'getMany', bound: 'command', run: (c) => c.getMany(['seed:a', 'seed:b']), answer: [null, null], throwsWhenStrict: true },
  { name: 'setMany', bound: 'command', run: (c) => c.setMany([{ key: 'm1', value: 1 }, { key: 'm2', value: 2 }]), answer: false, throwsWhenStrict: true },
  { name: 'delete', bound: 'command', run: (c) => c.delete('seed:a'), answer: false, throwsWhenStrict: true },
  { name: 'deleteMany', bound: 'command', run: (c) => c.deleteMany(['seed:a', 'seed:b']), answer: FAILED_BULK, throwsWhenStrict: true },
  { name: 'exists', bound: 'command', run: (c) => c.exists('seed:a'), answer: false, throwsWhenStrict: true },
  { name: 'ttl', bound: 'command', run: (c) => c.ttl('seed:a'), answer: null, throwsWhenStrict: true },
  { name: 'expire', bound: 'command', run: (c) => c.expire('seed:a', 60), answer: false, throwsWhenStrict: true },
  { name: 'incr', bound: 'command', run: (c) => c.incr('counter'), answer: null, throwsWhenStrict: true },
  { name: 'getAndTouch', bound: 'command', run: (c) => c.getAndTouch('seed:a'), answer: null, throwsWhenStrict: true },
  { name: 'setIfAbsent', bound: 'command', run: (c) => c.setIfAbsent('lock', 'me'), answer: false, throwsWhenStrict: true },
  { name: 'deleteIfEquals', bound: 'command', run: (c) => c.deleteIfEquals('lock', 'me'), answer: false, throwsWhenStrict: true },
  { name: 'deleteByPrefix', bound: 'scan', run: (c) => c.deleteByPrefix('seed:'), answer: FAILED_BULK, throwsWhenStrict: true },
  { name: 'countByPrefix', bound: 'scan', run: (c) => c.countByPrefix('seed:'), answer: FAILED_BULK, throwsWhenStrict: true },
  { name: 'scan', bound: 'scan', run: (c) => collect(c.scan('seed:')), answer: [], throwsWhenStrict: true },
  { name: 'checkConnection', bound: 'command', run: (c) => c.checkConnection(), answer: expect.objectContaining({ ok: false, code: expect.toBeOneOf(CONNECTION_CODES) }), throwsWhenStrict: false },
  { name: 'stats', bound: 'stats', run: (c) => c.stats(), answer: expect.objectContaining({ status: 'unhealthy', error: expect.any(String) }), throwsWhenStrict: false },
];

/** A way to make the server stop answering, and to let it answer again. */
interface Fault {
  name: string;
  freeze(): void;
  thaw(): Promise<void> | void;
}

/** What one deployment offers the scenarios: how to connect, and its faults. */
interface Target {
  connection: () => TopologyConnection;
  faults: Fault[];
  /** Waits until the deployment serves again after a thaw (a cluster's nodes see each other again). */
  settle?: () => Promise<void>;
}

/** Every operation on a frozen server, a strict and a lenient cache, then recovery and close. */
function describeFrozen(title: string, start: () => Promise<Target>, stop: () => Promise<void>) {
  describe(title, () => {
    let target: Target;
    const caches: Cache[] = [];
    const make = (options: CreateCacheOptions = {}) => {
      const cache = createCache({
        ...target.connection(),
        backend: 'redis',
        keyPrefix: uniquePrefix('frozen'),
        envFile: false,
        env: {},
        ...DEADLINES,
        // Every call goes to the server: each operation's own deadline is what is tested here
        // (the circuit breaker, which answers without a round trip, has its own test).
        breakerThreshold: 1_000_000,
        logger: { warn: () => undefined },
        ...options,
      });
      caches.push(cache);
      return cache;
    };

    beforeAll(async () => {
      target = await start();
    });
    afterAll(async () => {
      await Promise.all(caches.map((c) => c.close().catch(() => undefined)));
      await stop();
    });

    /** Polls until `cache` writes, reads, scans and deletes by prefix again. */
    async function expectWorksAgain(cache: Cache, label: string): Promise<void> {
      await target.settle?.();
      await until(`${label}: the cache writes again after the thaw`, () => cache.set('after', label).catch(() => false), 30_000);
      expect(await cache.get('after')).toBe(label);
      expect(await cache.set('again:1', 1)).toBe(true);
      expect(await cache.countByPrefix('again:')).toEqual({ count: 1, complete: true });
      expect(await cache.deleteByPrefix('again:')).toEqual({ count: 1, complete: true });
      expect((await cache.checkConnection()).ok).toBe(true);
    }

    it.each(['lenient', 'strict'] as const)('%s cache: every fault, every operation, bounded; works again after each', async (mode) => {
      const strict = mode === 'strict';
      const cache = make({ strict });
      const errors = errorsOf(cache);
      for (const fault of target.faults) {
        expect(await cache.setMany([{ key: 'seed:a', value: 'A' }, { key: 'seed:b', value: 'B' }])).toBe(true);
        errors.length = 0;
        fault.freeze();
        try {
          for (const op of OPERATIONS) {
            const label = `${op.name} (${fault.name})`;
            const reported = errors.length;
            const outcome = await bounded(label, BOUND_MS[op.bound], () => op.run(cache));
            if (strict && op.throwsWhenStrict) {
              expect(outcome.error, `${label} should throw in strict mode`).toBeDefined();
              expect(FinRiskCacheError.isInstance(outcome.error), `${label}: ${String(outcome.error)}`).toBe(true);
              expect((outcome.error as FinRiskCacheError).code, label).toBeOneOf(CONNECTION_CODES);
            } else {
              expect(outcome.error, `${label} threw ${String(outcome.error)}`).toBeUndefined();
              expect(outcome.value, label).toEqual(op.answer);
            }
            // A miss that is really a failure is always reported.
            if (op.throwsWhenStrict) expect(errors.length, `${label} reported no error event`).toBeGreaterThan(reported);
          }
          expect(errors.filter((e) => !CONNECTION_CODES.includes(e.error.code))).toEqual([]);
        } finally {
          await fault.thaw();
        }
        await expectWorksAgain(cache, `${mode} after ${fault.name}`);
      }
    }, 240_000);

    it('close ends within its bound on a frozen server, with replies in flight, and so does a cache that never connected', async () => {
      for (const fault of target.faults) {
        const cache = make();
        expect(await cache.set('k', 1)).toBe(true);
        // With the L1 tier on, the cache also holds a tracking connection per node.
        const withL1 = make({ l1: { maxMb: 16 } });
        expect(await withL1.set('k', 1)).toBe(true);
        expect(await withL1.get('k')).toBe(1);
        fault.freeze();
        let fresh: Cache | undefined;
        try {
          const closedL1 = await bounded(`close with L1 on (${fault.name})`, BOUND_MS.close, () => withL1.close());
          expect(closedL1.error).toBeUndefined();
          const inFlight = [cache.get('k'), cache.set('k', 2), cache.getMany(['k', 'k2'])];
          // A prefix delete takes several steps; close may come between two of them (E_CLOSED).
          const clearing = cache.deleteByPrefix('k').catch((error: unknown) => (error as FinRiskCacheError).code);
          // Let the commands reach the socket (a cluster or sentinel client picks the node first).
          await sleep(50);
          const closed = await bounded(`close (${fault.name})`, BOUND_MS.close, () => cache.close());
          expect(closed.error).toBeUndefined();
          // The calls that were waiting end too, with a miss or false.
          const settled = await bounded(`calls in flight at close (${fault.name})`, BOUND_MS.command, () => Promise.all(inFlight));
          expect(settled.value).toEqual([null, false, [null, null]]);
          const cleared = await bounded(`deleteByPrefix in flight at close (${fault.name})`, BOUND_MS.scan, () => clearing);
          // E_CLOSED when close came between two steps, else the step in flight failed: not complete.
          expect(cleared.value).toSatisfy((v) => v === 'E_CLOSED' || (v as { complete?: boolean }).complete === false);
          expect(await cache.get('k').catch((e: unknown) => e)).toMatchObject({ code: 'E_CLOSED' });

          // A cache created while the server is frozen: its first call misses in bounded time, and
          // its close ends whatever state the connection attempt is in.
          fresh = make();
          const first = await bounded(`first call of a new cache (${fault.name})`, BOUND_MS.firstCall, () => fresh!.get('k'));
          expect(first).toEqual({ value: null });
          const neverConnected = make();
          await bounded(`first call of a new cache (${fault.name})`, BOUND_MS.firstCall, () => neverConnected.exists('k'));
          const closedFresh = await bounded(`close of a cache that never connected (${fault.name})`, BOUND_MS.close, () => neverConnected.close());
          expect(closedFresh.error).toBeUndefined();
          // Before its first connection a cluster knows no master to scan: that is a failure, not "no keys".
          const strictFresh = make({ strict: true });
          const counted = await bounded(`first call of a new cache (${fault.name})`, BOUND_MS.firstCall, () => strictFresh.countByPrefix('k'));
          expect((counted.error as FinRiskCacheError | undefined)?.code, `countByPrefix answered ${String(counted.value)}`).toBeOneOf(CONNECTION_CODES);
        } finally {
          await fault.thaw();
        }
        // The cache created during the freeze connects by itself once the server answers.
        await expectWorksAgain(fresh, `new cache after ${fault.name}`);
      }
    }, 240_000);
  });
}

// ---------------------------------------------------------------- one server

let server: RedisServer | undefined;
describeFrozen(
  'one redis-server stopped with SIGSTOP',
  async () => {
    server = await startRedisServer();
    const s = server;
    return {
      connection: () => ({ url: s.url }),
      faults: [{ name: 'SIGSTOP', freeze: () => s.signal('SIGSTOP'), thaw: () => s.signal('SIGCONT') }],
    };
  },
  async () => {
    server?.signal('SIGCONT');
    await server?.stop();
  },
);

// ---------------------------------------------------------------- the fault proxy

let proxied: RedisServer | undefined;
let proxy: FaultProxy | undefined;
describeFrozen(
  'one redis-server behind the fault proxy',
  async () => {
    proxied = await startRedisServer();
    const p = (proxy = await startFaultProxy({ target: { host: proxied.host, port: proxied.port } }));
    return {
      connection: () => ({ url: p.url }),
      faults: [
        { name: 'pause', freeze: () => p.pause(), thaw: () => p.resume() },
        // Each way longer than every deadline: a path this slow answers nothing in time.
        { name: 'latency 1500 ms', freeze: () => p.setLatency(1500), thaw: () => p.heal() },
        { name: 'black hole', freeze: () => p.blackHole(), thaw: () => p.heal() },
        {
          // The connection is reset and the reconnection lands in a black hole: a handshake that never ends.
          name: 'cut into a black hole',
          freeze: () => {
            p.blackHole();
            p.cut();
          },
          thaw: () => p.heal(),
        },
      ],
    };
  },
  async () => {
    await proxy?.close();
    await proxied?.stop();
  },
);

describe('the fault proxy: a cut and a slow path', () => {
  let own: RedisServer;
  let p: FaultProxy;
  beforeAll(async () => {
    own = await startRedisServer();
    p = await startFaultProxy({ target: { host: own.host, port: own.port } });
  });
  afterAll(async () => {
    await p?.close();
    await own?.stop();
  });

  it('a cut ends the calls in flight at once and the cache reconnects by itself', async () => {
    const cache = createCache({ url: p.url, backend: 'redis', keyPrefix: uniquePrefix('cut'), envFile: false, env: {}, ...DEADLINES });
    try {
      expect(await cache.set('k', 'v')).toBe(true);
      p.pause(); // so that the calls are surely in flight when the connection is cut
      const inFlight = Array.from({ length: 20 }, () => cache.get('k'));
      p.cut();
      p.resume();
      const settled = await bounded('calls in flight at a cut', BOUND_MS.command, () => Promise.all(inFlight));
      expect(settled.value).toEqual(new Array(20).fill(null));
      await until('the cache reads again after the cut', async () => (await cache.get('k')) === 'v', 30_000);
      expect(p.accepted).toBeGreaterThanOrEqual(2);
    } finally {
      await bounded('close (after a cut)', BOUND_MS.close, () => cache.close());
    }
  });

  it('a path slower than usual but within the deadlines still answers', async () => {
    const cache = createCache({ url: p.url, backend: 'redis', keyPrefix: uniquePrefix('slow'), envFile: false, env: {}, commandTimeoutMs: 5000, scanTimeoutMs: 5000 });
    try {
      expect(await cache.set('k', 'v')).toBe(true);
      p.setLatency(100);
      expect(await cache.get('k')).toBe('v');
      expect(await cache.countByPrefix('')).toEqual({ count: 1, complete: true });
      expect(await cache.deleteByPrefix('')).toEqual({ count: 1, complete: true });
    } finally {
      p.heal();
      await cache.close();
    }
  });
});

// ---------------------------------------------------------------- a cluster

let cluster: RedisCluster | undefined;
describeFrozen(
  'a Redis Cluster with every node stopped with SIGSTOP',
  async () => {
    cluster = await startRedisCluster();
    const c = cluster;
    return {
      connection: () => ({ clusterNodes: c.seeds.split(',') }),
      // The whole cluster at once: one stopped master would be failed over by the others, and a
      // cluster in the middle of a failover is another test (topology.integration.test.ts).
      faults: [
        {
          name: 'SIGSTOP of every node',
          freeze: () => c.nodes.forEach((n) => n.signal('SIGSTOP')),
          thaw: () => c.nodes.forEach((n) => n.signal('SIGCONT')),
        },
      ],
      settle: () => c.waitHealthy(),
    };
  },
  async () => {
    cluster?.nodes.forEach((n) => n.signal('SIGCONT'));
    await cluster?.stop();
  },
);

// ---------------------------------------------------------------- Sentinel

let sentinel: RedisSentinelGroup | undefined;
describeFrozen(
  "a Sentinel group's master stopped with SIGSTOP",
  async () => {
    // The sentinels would fail the stopped master over after down-after-milliseconds; this tests
    // the client against a master that does not answer, so they wait longer than the test.
    sentinel = await startRedisSentinel({ downAfterMs: 120_000 });
    const g = sentinel;
    return {
      connection: () => ({ sentinels: g.seeds.split(','), sentinelMaster: g.masterName }),
      faults: [{ name: 'SIGSTOP of the master', freeze: () => g.master.signal('SIGSTOP'), thaw: () => g.master.signal('SIGCONT') }],
    };
  },
  async () => {
    sentinel?.master.signal('SIGCONT');
    await sentinel?.stop();
  },
);

describe('a Sentinel group whose sentinels are behind the fault proxy, as black holes', () => {
  let group: RedisSentinelGroup;
  let proxies: FaultProxy[] = [];
  const connection = () => ({ sentinels: proxies.map((p) => `127.0.0.1:${p.port}`), sentinelMaster: group.masterName });
  const keyPrefix = uniquePrefix('sentinels');
  const make = () => createCache({ ...connection(), backend: 'redis', keyPrefix, envFile: false, env: {}, ...DEADLINES, logger: { warn: () => undefined } });

  beforeAll(async () => {
    group = await startRedisSentinel();
    proxies = await Promise.all(group.sentinels.map((s) => startFaultProxy({ target: { host: s.host, port: s.port } })));
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await group?.stop();
  });

  it('a cache that knows its master goes on; a new one misses and closes in bounded time; both work after the heal', async () => {
    const known = make();
    let fresh: Cache | undefined;
    try {
      // The cache must have found its master before the sentinels go dark. Its first write (a
      // sentinel lookup, a connect and a SET under a 200 ms deadline) can miss the deadline on a
      // loaded machine, so wait until one lands rather than expect the first to.
      await until('the cache has written through the master the sentinels named', () => known.set('k', 'v'), 30_000);
      proxies.forEach((p) => p.blackHole());
      // The master itself still answers: the sentinels are only asked where it is. A read can still
      // miss its 200 ms deadline under load; the sentinels stay dark throughout, so any read that
      // returns the value went to the master without them.
      await until('the known cache reads from its master with the sentinels dark', async () => (await known.get('k')) === 'v', 30_000);

      fresh = make();
      const first = await bounded('first call of a new cache (sentinels in a black hole)', BOUND_MS.firstCall, () => fresh!.get('k'));
      expect(first).toEqual({ value: null });
      const check = await bounded('checkConnection (sentinels in a black hole)', BOUND_MS.command, () => fresh!.checkConnection());
      expect(check.value).toMatchObject({ ok: false, code: expect.toBeOneOf(CONNECTION_CODES) });
      const closed = await bounded('close of a cache that never connected (sentinels in a black hole)', BOUND_MS.close, () => fresh!.close());
      expect(closed.error).toBeUndefined();
    } finally {
      proxies.forEach((p) => p.heal());
    }
    const after = make();
    try {
      await until('a new cache reads the value after the heal', async () => (await after.get('k')) === 'v', 30_000);
    } finally {
      await bounded('close (sentinels healed)', BOUND_MS.close, () => after.close());
      await bounded('close (sentinels healed)', BOUND_MS.close, () => known.close());
    }
  }, 120_000);
});

afterAll(() => {
  const rows = [...slowest.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, ms]) => `  ${label}: ${Math.round(ms)} ms`);
  console.log(`frozen: the longest each operation took against a server that does not answer\n${rows.join('\n')}`);
});
