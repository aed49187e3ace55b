// The built `finrisk-cache` against a Redis that accepts connections and never answers: a
// redis-server stopped with SIGSTOP, a cluster with every node stopped, and the fault proxy as a
// black hole. Every command exits within a few seconds (it used to wait forever in close), with
// exit 3 when Redis is the configured backend; and `check` passes again once Redis answers.
import {
  startFaultProxy,
  startRedisCluster,
  startRedisServer,
  uniquePrefix,
  type FaultProxy,
  type RedisCluster,
  type RedisServer,
} from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lines, runBinary, workspace, type BinaryResult } from './run-binary.js';

/**
 * "A few seconds": the wait for a first connection (1 s by default), close (at most 2 × 1 s) and
 * a node process starting, with room for a loaded 2-core machine. What it catches is a hang.
 */
const BOUND_MS = 15_000;

const PREDICTION = '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}';
/** The commands the issue found hanging, with the exit status each gives with CACHE_BACKEND=auto on a frozen Redis. */
const COMMANDS: { args: string[]; autoExit: number }[] = [
  { args: ['check'], autoExit: 3 },
  { args: ['get-pred', 'CUST001', 'credit'], autoExit: 1 }, // a miss in the embedded store
  { args: ['cache-pred', 'CUST001', 'credit', PREDICTION], autoExit: 0 },
  { args: ['clear-pred'], autoExit: 0 },
  { args: ['list-df'], autoExit: 0 },
  { args: ['get-df', 'customer_data'], autoExit: 1 },
  { args: ['stats'], autoExit: 0 },
];

/** The longest each command took against a frozen server (printed at the end). */
const slowest = new Map<string, number>();

describe('finrisk-cache against a Redis that does not answer', () => {
  const ws = workspace('frozen');
  const prefix = uniquePrefix('frozen');
  let server: RedisServer;
  let cluster: RedisCluster;
  let proxy: FaultProxy;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    server?.signal('SIGCONT');
    cluster?.nodes.forEach((n) => n.signal('SIGCONT'));
    await proxy?.close();
    await Promise.all([server?.stop(), cluster?.stop()]);
    const rows = [...slowest.entries()].map(([label, ms]) => `  ${label}: ${Math.round(ms)} ms`);
    console.log(`finrisk-cache against a frozen Redis, the longest each command took:\n${rows.join('\n')}`);
  });

  async function run(label: string, args: string[], env: Record<string, string>): Promise<BinaryResult> {
    const start = performance.now();
    const result = await runBinary(args, { cwd: ws.cwd, env: ws.env({ CACHE_KEY_PREFIX: prefix, ...env }), timeoutMs: BOUND_MS });
    const ms = performance.now() - start;
    slowest.set(label, Math.max(slowest.get(label) ?? 0, ms));
    expect(result.timedOut, `${label} was still running after ${BOUND_MS} ms: ${result.stderr}`).toBeUndefined();
    return result;
  }

  /** Every command with CACHE_BACKEND=redis exits 3 with one readable line; `check` passes again after the thaw. */
  async function expectEveryCommandFailsFast(name: string, env: Record<string, string>, freeze: () => void, thaw: () => Promise<void> | void) {
    freeze();
    try {
      for (const { args } of COMMANDS) {
        const result = await run(`${args[0]} (${name})`, args, { ...env, CACHE_BACKEND: 'redis' });
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(3);
        const stderr = lines(result.stderr);
        expect(stderr.at(-1), args[0]).toMatch(/^finrisk-cache: .*(not reachable|unavailable|did not answer)/);
        expect(result.stderr, args[0]).not.toMatch(/^\s+at /m); // no stack trace without --debug
      }
    } finally {
      await thaw();
    }
    let check: BinaryResult | undefined;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      check = await runBinary(['check'], { cwd: ws.cwd, env: ws.env({ ...env, CACHE_BACKEND: 'redis' }), timeoutMs: BOUND_MS });
      if (check.code === 0) break;
    }
    expect(check?.code, `check after the thaw: ${check?.stderr}`).toBe(0);
  }

  it('one redis-server stopped with SIGSTOP: every command exits 3 within a few seconds', async () => {
    await expectEveryCommandFailsFast('SIGSTOP', { REDIS_URL: server.url }, () => server.signal('SIGSTOP'), () => server.signal('SIGCONT'));
  }, 180_000);

  it('with CACHE_BACKEND=auto, check exits 3 and the other commands run on the embedded store, as documented', async () => {
    server.signal('SIGSTOP');
    try {
      for (const { args, autoExit } of COMMANDS) {
        const result = await run(`${args[0]} (SIGSTOP, backend auto)`, args, { REDIS_URL: server.url });
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(autoExit);
        expect(result.stderr, args[0]).toContain(`Redis at ${server.url}`);
        expect(result.stderr, args[0]).toContain('is not reachable');
      }
    } finally {
      server.signal('SIGCONT');
    }
  }, 180_000);

  it('behind a black hole (accepts, never answers): every command exits 3 within a few seconds', async () => {
    await expectEveryCommandFailsFast('black hole', { REDIS_URL: proxy.url }, () => proxy.blackHole(), () => proxy.heal());
  }, 180_000);

  it('a cluster with every node stopped with SIGSTOP: every command exits 3 within a few seconds', async () => {
    await expectEveryCommandFailsFast(
      'cluster SIGSTOP',
      { REDIS_CLUSTER_NODES: cluster.seeds },
      () => cluster.nodes.forEach((n) => n.signal('SIGSTOP')),
      async () => {
        cluster.nodes.forEach((n) => n.signal('SIGCONT'));
        await cluster.waitHealthy();
      },
    );
  }, 240_000);
});
