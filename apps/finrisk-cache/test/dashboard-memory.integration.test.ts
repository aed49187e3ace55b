import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDashboardProcess, type DashboardProcess } from './dashboard-process.js';
import { workspace } from './run-binary.js';

// Issue 22's three memory probes of the dashboard, each against its own `finrisk-cache dashboard`
// subprocess, whose peak resident set size (VmHWM) is read from /proc: a fleet record forged with
// 20,000 kinds and republished every second, a customer lookup of 40 models x 1 MB asked by 40
// clients that do not read, and the preview of a deflated frame of 448 MB raw. Before the
// dashboard's bounds each went far past 300 MB; they must stay under it.

// The app depends on cache-cli only; the tests write entries with the workspace's packages.
type Core = typeof import('../../../packages/cache-core/dist/index.js');
type Ml = typeof import('../../../packages/cache-ml/dist/index.js');
type Frames = typeof import('../../../packages/cache-frames/dist/index.js');
const packageUrl = (path: string) => new URL(`../../../packages/${path}`, import.meta.url).href;
const loadCore = () => import(packageUrl('cache-core/dist/index.js')) as Promise<Core>;
const loadMl = () => import(packageUrl('cache-ml/dist/index.js')) as Promise<Ml>;
const loadFrames = () => import(packageUrl('cache-frames/dist/index.js')) as Promise<Frames>;
/** arquero, as cache-frames has it (the app does not depend on it): only `table` is used. */
type Table = Parameters<ReturnType<Frames['createFrameCache']>['cacheDataFrame']>[1];
const loadArquero = () => import(packageUrl('cache-frames/node_modules/arquero/src/index.js')) as Promise<{ table(columns: Record<string, ArrayLike<unknown>>): Table }>;

/** The bound the issue sets for the dashboard's resident memory through every probe, in MiB. */
const RSS_LIMIT_MIB = 300;
/** A probe stops early once the dashboard is this far past the limit (the test has failed by then). */
const GIVE_UP_MIB = 2 * RSS_LIMIT_MIB;

const ws = workspace('dash-memory');
let server: RedisServer;
const FAST = ['--refresh', '0.3', '--fleet-interval', '1', '--keys-interval', '5'];

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

/** The peak resident set of process `pid` so far (VmHWM), in MiB. */
function peakOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024;
}

async function startDashboard(prefix: string, pace = FAST): Promise<DashboardProcess> {
  return startDashboardProcess([...pace, '--port', String(await freePort())], {
    cwd: ws.cwd,
    env: ws.env({ REDIS_URL: server.url, CACHE_KEY_PREFIX: prefix, CACHE_STATS_PUBLISH: 'off', NO_COLOR: '1' }),
  });
}

/**
 * Polls the dashboard's memory every 200 ms until `done()` holds, `maxMs` passed, or its peak is
 * past {@link GIVE_UP_MIB}; returns the peak.
 */
async function watchPeak(dashboard: DashboardProcess, done: () => boolean | Promise<boolean>, maxMs: number): Promise<number> {
  const pid = dashboard.child.pid!;
  const until = Date.now() + maxMs;
  while (Date.now() < until && peakOf(pid) < GIVE_UP_MIB && !(await done())) await sleep(200);
  return peakOf(pid);
}

/**
 * Sends commands over one raw connection (RESP) and waits for their replies: a forged record is
 * megabytes, more than redis-cli takes as an argument. Every reply here is one line (+OK, :1).
 */
async function redisRaw(port: number, commands: (string | Buffer)[][]): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  const parts: Buffer[] = [];
  for (const args of commands) {
    parts.push(Buffer.from(`*${args.length}\r\n`));
    for (const arg of args) {
      const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(arg, 'utf8');
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
    }
  }
  const replies = await new Promise<string[]>((resolve, reject) => {
    let text = '';
    socket.on('data', (data: Buffer) => {
      text += data.toString('utf8');
      const lines = text.split('\r\n').slice(0, -1);
      if (lines.length >= commands.length) resolve(lines);
    });
    socket.on('error', reject);
    socket.write(Buffer.concat(parts));
  });
  socket.destroy();
  expect(replies.filter((line) => line.startsWith('-'))).toEqual([]);
}

/**
 * The size of the answer to `GET url`, on a connection of its own: a kept-alive one that the
 * dashboard closes as idle just as the next request goes out reads as ECONNRESET on a loaded machine.
 */
function answerBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * A client that sends `GET path` and reads nothing after the first bytes of the answer (its
 * status line): what it is sent piles up in the kernel and then in the dashboard.
 */
function stalledClient(port: number, path: string): { socket: Socket; status: Promise<number> } {
  const socket = connect(port, '127.0.0.1');
  const status = new Promise<number>((resolve, reject) => {
    socket.once('data', (data: Buffer) => {
      socket.pause();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data.toString('latin1'))?.[1] ?? 0));
    });
    socket.once('error', reject);
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return { socket, status };
}

describe('a fleet record forged with 20,000 kinds, republished every second', () => {
  const prefix = uniquePrefix('dash-kinds');
  const key = `${prefix}:stats:forged:${encodeURIComponent('forger:1:000001')}`;
  let dashboard: DashboardProcess;
  let round = 0;
  let kinds = 2;
  let publishing = true;
  let publisher: Promise<void>;

  /** The record an SDK process would publish, with `kinds` kinds whose counters grow with `round`. */
  function forgedRecord(): string {
    const byKind: Record<string, Record<string, number>> = {};
    for (let k = 0; k < kinds; k++) {
      byKind[`kind${k}`] = {
        hits: round * 3, misses: round, writes: round, writeFailures: 0, errors: 0, operations: round * 5, totalLatencyMs: round * 2,
        l1Hits: 0, l1Misses: 0, l1Evictions: 0, l1Invalidations: 0, l1Bytes: 0,
      };
    }
    const now = Date.now();
    return JSON.stringify({
      format: 'finrisk-stats', formatVersion: 1, service: 'forged', instance: 'forger:1:000001', host: 'forger', pid: 1,
      startedAt: now - round * 1000, publishedAt: now, intervalSeconds: 1,
      process: { hits: round * 3 * kinds, misses: round * kinds, hitRate: 0.75, byKind },
    });
  }

  beforeAll(async () => {
    const publish = async () => {
      round++;
      await redisRaw(server.port, [['SET', key, forgedRecord(), 'PX', '3000'], ['ZADD', `${prefix}:stats-index`, String(Date.now()), key]]);
    };
    await publish();
    publisher = (async () => {
      while (publishing) {
        await sleep(1000);
        await publish();
      }
    })();
    // A sample every 0.1 s, as fast as --refresh goes: each holds the fleet's rates per kind.
    dashboard = await startDashboard(prefix, ['--refresh', '0.1', '--fleet-interval', '1', '--keys-interval', '5']);
  });
  afterAll(async () => {
    publishing = false;
    await publisher;
    await dashboard?.stop();
  });

  it('stays under 300 MB for 40 s of it, and /api/state stays small', async () => {
    // The process first publishes two kinds, then 20,000: the dashboard has its previous record
    // (read fast: the next read is not pushed back) when the large one arrives.
    const seen = async () => ((await (await fetch(`${dashboard.base}/api/state`)).json()) as { fleet: { services: { service: string }[] } | null }).fleet;
    await vi.waitFor(async () => expect((await seen())?.services.map((s) => s.service)).toEqual(['forged']), { timeout: 20_000, interval: 200 });
    kinds = 20_000;
    const from = round;
    // A page connecting now and then asks for the whole state, as /api/state answers it.
    let largestState = 0;
    let lastAsked = 0;
    const started = Date.now();
    const peak = await watchPeak(dashboard, async () => {
      if (Date.now() - lastAsked > 2000) {
        lastAsked = Date.now();
        largestState = Math.max(largestState, await answerBytes(`${dashboard.base}/api/state`));
      }
      return Date.now() - started > 40_000;
    }, 60_000);
    expect(round - from).toBeGreaterThanOrEqual(15);
    expect(peak, `peak RSS ${peak.toFixed(0)} MiB`).toBeLessThan(RSS_LIMIT_MIB);
    expect(largestState, `largest /api/state ${largestState} bytes`).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});

describe('a customer lookup of 40 models x 1 MB, asked by 40 clients that do not read', () => {
  const prefix = uniquePrefix('dash-lookup');
  let dashboard: DashboardProcess;
  beforeAll(async () => {
    const { createCache } = await loadCore();
    const { createMlCache } = await loadMl();
    const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, statsPublish: false, commandTimeoutMs: 10_000 });
    try {
      const ml = createMlCache(cache);
      // 500 fields of 2,000 characters: what the lookup shows of a value (each field cut at 2,000).
      for (let m = 0; m < 40; m++) {
        const value = Object.fromEntries(Array.from({ length: 500 }, (_, f) => [`field${f}`, `${m}:${f}:`.padEnd(2000, String.fromCharCode(97 + ((m + f) % 26)))]));
        expect(await ml.cacheModelPrediction('BIG', `model${String(m).padStart(2, '0')}`, value)).toBe(true);
      }
    } finally {
      await cache.close();
    }
    dashboard = await startDashboard(prefix);
  }, 120_000);
  afterAll(async () => {
    await dashboard?.stop();
  });

  it('stays under 300 MB', async () => {
    const port = Number(new URL(dashboard.base).port);
    const clients = Array.from({ length: 40 }, () => stalledClient(port, '/api/customer?id=BIG'));
    const statuses: number[] = [];
    for (const c of clients) void c.status.then((s) => statuses.push(s), () => statuses.push(-1));
    try {
      // Two lookups run at a time and eight wait (at most 30 s): every client has its answer well within 90 s.
      const peak = await watchPeak(dashboard, () => statuses.length === clients.length, 90_000);
      expect(peak, `peak RSS ${peak.toFixed(0)} MiB with ${statuses.length} of 40 answered`).toBeLessThan(RSS_LIMIT_MIB);
      // Every client had an answer: some the lookup, the others a 503 with Retry-After.
      expect(statuses).toHaveLength(clients.length);
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    } finally {
      for (const c of clients) c.socket.destroy();
    }
  }, 180_000);
});

describe('the preview of a deflated frame of 448 MB raw (a few MB stored)', () => {
  const prefix = uniquePrefix('dash-preview');
  let dashboard: DashboardProcess;
  beforeAll(async () => {
    const { createCache } = await loadCore();
    const { createFrameCache } = await loadFrames();
    const aq = await loadArquero();
    const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, statsPublish: false, commandTimeoutMs: 10_000 });
    try {
      const frames = createFrameCache(cache, { compression: 'deflate' });
      // 56,000,000 float64 zeros: 448 MB of Arrow data that deflates about a thousand times.
      expect(await frames.cacheDataFrame('deflated', aq.table({ x: new Float64Array(56_000_000) }), { ttl: 600 })).toBe(true);
      const info = await frames.getDataFrameInfo('deflated');
      expect(info!.bytes).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await cache.close();
    }
    dashboard = await startDashboard(prefix);
  }, 120_000);
  afterAll(async () => {
    await dashboard?.stop();
  });

  it('stays under 300 MB, and says the frame is too large to preview', async () => {
    let answer: { status: number; body: Record<string, unknown> } | undefined;
    void fetch(`${dashboard.base}/api/frame?name=deflated`).then(async (res) => (answer = { status: res.status, body: (await res.json()) as Record<string, unknown> }));
    const peak = await watchPeak(dashboard, () => answer !== undefined, 60_000);
    expect(peak, `peak RSS ${peak.toFixed(0)} MiB`).toBeLessThan(RSS_LIMIT_MIB);
    expect(answer?.status).toBe(200);
    expect(answer?.body).toMatchObject({ tooLarge: true });
  }, 120_000);
});
