import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer, type RedisServer } from '@finrisk/test-utils';
import autocannon from 'autocannon';

/** Options of {@link runLoadTest}. */
export interface LoadTestOptions {
  /** Seconds each case runs. */
  durationS: number;
  /** Concurrent HTTP connections. */
  connections: number;
  /** Distinct customers. @default 5000 */
  customers?: number;
  /** Progress lines go here. @default nothing */
  log?: (line: string) => void;
  /**
   * Extra environment of the service process (e.g. `CACHE_COMMAND_TIMEOUT_MS` for a test on a
   * loaded machine). @default none
   */
  serviceEnv?: Record<string, string>;
}

/** What one case measured. */
export interface CaseResult {
  name: 'with cache' | 'with cache and L1 (64 MiB)' | 'without cache' | 'with cache, Redis killed half-way';
  requests: number;
  /** Mean requests per second over the run. */
  reqPerSec: number;
  /** Latency percentiles, in ms. */
  p50Ms: number;
  p99Ms: number;
  /**
   * Share of the answered requests whose prediction came from Redis, 0..1: prediction hits counted
   * by the service's own `/metrics`, over 200 answers. (Not hits / (hits + misses): while Redis is
   * down the cache counts failed or refused reads as neither.)
   */
  hitRate: number;
  /** Answers per status code. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts seen by autocannon. */
  errors: number;
  /** Only for the Redis-killed case: what happened after the kill. */
  afterKill?: { requests: number; statuses: Record<string, number>; hitRate: number; healthzStatus: number };
  /** Only for the Redis-killed case: the hit rate before the kill. */
  hitRateBeforeKill?: number;
  /** The service's own prediction counters from `/metrics` at the end. */
  metrics: PredictionCounters;
}

const here = dirname(fileURLToPath(import.meta.url));
const appRoot = join(here, '..');

/**
 * A deterministic stream of request paths: 80% of the requests go to the hottest 20% of the
 * customers (a repeat-customer mix), two credit checks for each fraud check.
 */
export function requestMix(customers: number, seed = 42): () => string {
  let state = seed >>> 0;
  const random = () => {
    // mulberry32: small, seedable, good enough for a traffic mix.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hot = Math.max(1, Math.floor(customers * 0.2));
  return () => {
    const n = random() < 0.8 ? Math.floor(random() * hot) : hot + Math.floor(random() * (customers - hot));
    const model = random() < 2 / 3 ? 'credit' : 'fraud';
    return `/v1/customers/CUST${String(n).padStart(5, '0')}/${model}-risk`;
  };
}

interface Service {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startService(redisUrl: string, useCache: boolean, l1Mb = 0, extraEnv: Record<string, string> = {}): Promise<Service> {
  const tsx = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, join(here, 'serve.ts')], {
    cwd: appRoot,
    env: { ...process.env, ...extraEnv, REDIS_URL: redisUrl, USE_CACHE: String(useCache), CACHE_L1_MAX_MB: String(l1Mb) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening (\S+)/.exec(output);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the service exited (${code}) before listening:\n${output}`)));
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Prediction reads of the service's cache, as `/metrics` counts them. */
export interface PredictionCounters {
  predictionHits: number;
  predictionMisses: number;
}

async function scrapePredictionCounters(url: string): Promise<PredictionCounters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^finrisk_cache_${name}\\{kind="prediction"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { predictionHits: read('hits_total'), predictionMisses: read('misses_total') };
}

// Share of `answered` requests served from Redis between two scrapes.
function hitRateBetween(from: PredictionCounters, to: PredictionCounters, answered: number): number {
  return answered === 0 ? 0 : (to.predictionHits - from.predictionHits) / answered;
}

class Tally {
  requests = 0;
  statuses: Record<string, number> = {};
  add(status: number): void {
    this.requests++;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }
}

async function runCase(
  name: CaseResult['name'],
  redis: RedisServer,
  options: Required<Omit<LoadTestOptions, 'log' | 'serviceEnv'>> & Pick<LoadTestOptions, 'log' | 'serviceEnv'>,
): Promise<CaseResult> {
  redis.cli('FLUSHALL');
  const useCache = name !== 'without cache';
  const killHalfWay = name === 'with cache, Redis killed half-way';
  const service = await startService(redis.url, useCache, name === 'with cache and L1 (64 MiB)' ? 64 : 0, options.serviceEnv);
  const next = requestMix(options.customers);
  const before = new Tally();
  const after = new Tally();
  const zero: PredictionCounters = { predictionHits: 0, predictionMisses: 0 };
  let atKill = zero;
  let answeredAtKill = 0;
  let killed = false;
  let healthzStatus = 0;
  let killTimer: NodeJS.Timeout | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  let killing: Promise<void> | undefined;
  try {
    options.log?.(`  ${name}: ${options.durationS} s, ${options.connections} connections`);
    const halfMs = (options.durationS * 1000) / 2;
    const run = autocannon({
      url: service.url,
      connections: options.connections,
      // With a kill, the run is stopped half a duration after the kill has finished (below), however
      // long the kill took on a loaded machine; this is only the upper bound.
      duration: killHalfWay ? options.durationS * 10 : options.durationS,
      requests: [
        {
          setupRequest: (request) => ({ ...request, path: next() }),
          onResponse: (status) => (killed ? after : before).add(status),
        },
      ],
    });
    if (killHalfWay) {
      killing = new Promise<void>((resolve) => {
        killTimer = setTimeout(() => {
          void (async () => {
            atKill = await scrapePredictionCounters(service.url);
            answeredAtKill = before.statuses['200'] ?? 0;
            await redis.kill();
            killed = true;
            healthzStatus = (await fetch(`${service.url}/healthz`)).status;
            options.log?.(`    Redis killed; /healthz answers ${healthzStatus}`);
          })()
            .catch((error: unknown) => options.log?.(`    killing Redis failed: ${String(error)}`))
            .finally(() => {
              stopTimer = setTimeout(() => (run as unknown as { stop(): void }).stop(), halfMs);
              resolve();
            });
        }, halfMs);
      });
    }
    const result = await run;
    await killing;
    const all = new Tally();
    for (const t of [before, after]) {
      all.requests += t.requests;
      for (const [s, n] of Object.entries(t.statuses)) all.statuses[s] = (all.statuses[s] ?? 0) + n;
    }
    const end = await scrapePredictionCounters(service.url);
    const outcome: CaseResult = {
      name,
      requests: result.requests.total,
      reqPerSec: result.requests.total / result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      hitRate: hitRateBetween(zero, end, all.statuses['200'] ?? 0),
      statuses: all.statuses,
      errors: result.errors,
      metrics: end,
    };
    if (killHalfWay) {
      outcome.hitRateBeforeKill = hitRateBetween(zero, atKill, answeredAtKill);
      outcome.afterKill = { requests: after.requests, statuses: after.statuses, hitRate: hitRateBetween(atKill, end, (all.statuses['200'] ?? 0) - answeredAtKill), healthzStatus };
    }
    return outcome;
  } finally {
    clearTimeout(killTimer);
    clearTimeout(stopTimer);
    await service.stop();
    if (killHalfWay) await redis.restart();
  }
}

/** Runs the four cases one after the other against one redis-server that it starts and stops. */
export async function runLoadTest(options: LoadTestOptions): Promise<CaseResult[]> {
  const full = { customers: 5000, ...options };
  const redis = await startRedisServer();
  try {
    const results: CaseResult[] = [];
    for (const name of ['with cache', 'with cache and L1 (64 MiB)', 'without cache', 'with cache, Redis killed half-way'] as const) {
      results.push(await runCase(name, redis, full));
    }
    return results;
  } finally {
    await redis.stop();
  }
}
