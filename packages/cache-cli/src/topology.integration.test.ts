import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisCluster, redisSentinel, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { ExitCode } from './exit-codes.js';
import { runCli } from './run-cli.js';

// check, stats and monitor in-process on a Redis Cluster and a Sentinel group: totals, one line
// per node with its role, and exit 3 when a slot is not served.

const cwd = mkdtempSync(join(tmpdir(), 'finrisk-cli-topology-'));
const prefix = uniquePrefix('cli-topology');

const lines = (text: string) => text.split('\n').filter(Boolean);

async function run(argv: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const io: Partial<CliIo> = {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    // A command deadline a loaded machine meets (the default 250 ms is missed now and then under load).
    env: { CACHE_KEY_PREFIX: prefix, CACHE_LOCAL_PATH: join(cwd, 'cache.db'), CACHE_CONNECT_TIMEOUT_MS: '2000', CACHE_COMMAND_TIMEOUT_MS: '5000', ...env },
    cwd,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

interface NodeJson {
  address: string;
  role: string;
  usedMemoryBytes: number;
  connectedClients: number;
}

describe('on a Redis Cluster', () => {
  let deployment: RedisDeployment;
  const env = () => deployment.env;

  beforeAll(async () => {
    deployment = await redisCluster.start();
  });
  afterAll(async () => {
    await deployment?.stop();
  });

  it('check answers OK and lists every node with its role', async () => {
    const result = await run(['check'], env());
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(result.stdout).toMatch(new RegExp(`^OK {2}Redis at redis-cluster://127\\.0\\.0\\.1:\\d+(,127\\.0\\.0\\.1:\\d+){5} answered in `, 'm'));
    expect(result.stdout).toMatch(/^Node\s+Role\s+Used Memory\s+Clients$/m);
    expect(result.stdout.match(/^127\.0\.0\.1:\d+\s+master\s+/gm)).toHaveLength(3);
    expect(result.stdout.match(/^127\.0\.0\.1:\d+\s+replica\s+/gm)).toHaveLength(3);
    const data = JSON.parse((await run(['check', '--json'], env())).stdout) as { ok: boolean; nodes: NodeJson[] };
    expect(data.ok).toBe(true);
    expect(data.nodes.map((n) => n.address).sort()).toEqual(deployment.cluster!.nodes.map((n) => `127.0.0.1:${n.port}`).sort());
  });

  it('stats shows totals over the masters, the hit rate from summed counters, and one line per node', async () => {
    // Hits and misses on keys of every master.
    for (let i = 0; i < 12; i++) expect((await run(['cache-feat', `T${i}`, `{"i": ${i}}`], env())).code).toBe(0);
    for (let i = 0; i < 12; i++) expect((await run(['get-feat', `T${i}`], env())).code).toBe(0);
    for (let i = 0; i < 4; i++) expect((await run(['get-feat', `MISSING${i}`], env())).code).toBe(ExitCode.NOT_FOUND);
    const data = JSON.parse((await run(['stats', '--json'], env())).stdout) as { keyspaceHits: number; keyspaceMisses: number; hitRate: number; keys: number; usedMemoryBytes: number; nodes: NodeJson[] };
    const masters = deployment.masters();
    const sum = (field: string, section = 'stats') =>
      masters.reduce((n, m) => n + Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(m.cli('INFO', section))![1]), 0);
    // Counters only grow: what the CLI summed lies between two sums of our own around it.
    expect(data.keyspaceHits).toBeGreaterThanOrEqual(12);
    expect(data.keyspaceHits).toBeLessThanOrEqual(sum('keyspace_hits'));
    expect(data.keyspaceMisses).toBeGreaterThanOrEqual(4);
    expect(data.keyspaceMisses).toBeLessThanOrEqual(sum('keyspace_misses'));
    expect(data.hitRate).toBeCloseTo(data.keyspaceHits / (data.keyspaceHits + data.keyspaceMisses), 10);
    expect(data.keys).toBe(masters.reduce((n, m) => n + Number(m.cli('DBSIZE')), 0));
    // The total is the masters' sum (the node lines come from a second INFO a moment later).
    const perNodeMemory = data.nodes.filter((n) => n.role === 'master').reduce((n, node) => n + node.usedMemoryBytes, 0);
    expect(Math.abs(data.usedMemoryBytes - perNodeMemory) / perNodeMemory).toBeLessThan(0.05);
    expect(data.usedMemoryBytes).toBeGreaterThan(1.5 * Math.max(...data.nodes.map((n) => n.usedMemoryBytes)));
    expect(data.nodes).toHaveLength(6);
    expect(data.nodes.filter((n) => n.role === 'replica')).toHaveLength(3);
    expect(data.nodes.every((n) => n.usedMemoryBytes > 0 && n.connectedClients >= 1)).toBe(true);

    const human = await run(['stats'], env());
    expect(human.code).toBe(ExitCode.OK);
    expect(human.stdout).toMatch(/^Cluster\s+3 masters, 3 replicas; the figures below are totals over the masters$/m);
    expect(human.stdout).toMatch(/^Hit Rate\s+\d+\.\d\d%$/m);
    expect(human.stdout).toMatch(/^Keys\s+\d+$/m);
    expect(human.stdout.match(/^127\.0\.0\.1:\d+\s+(master|replica)\s+\d+(\.\d+)?(B|KB|MB)\s+\d+$/gm)).toHaveLength(6);
  });

  it('monitor reads the summed figures', async () => {
    const result = await run(['monitor', '--once', '--min-hit-rate', '0', '--json'], env());
    expect(result.code).toBe(ExitCode.OK);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ state: 'ok' });
  });

  it('--cluster-nodes connects like REDIS_CLUSTER_NODES, and wins over REDIS_URL from the environment', async () => {
    const result = await run(['check', '--json', '--cluster-nodes', deployment.cluster!.seeds], { REDIS_URL: 'redis://127.0.0.1:1/0' });
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, backend: 'redis' });
    const bad = await run(['check', '--cluster-nodes', '127.0.0.1'], {});
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr).toContain('--cluster-nodes: "127.0.0.1" is not host:port');
  });

  // Last: it takes slots away from the cluster for good.
  it('check and stats exit 3 when a slot is not served (a master and its replica are down)', async () => {
    const victim = deployment.masters()[0]!;
    const replicaPort = Number(
      deployment.cli('CLUSTER', 'NODES')
        .split('\n')
        .find((line) => line.includes('slave') && line.includes(victim.cli('CLUSTER', 'MYID')))!
        .split(' ')[1]!.split(':')[1]!.split('@')[0],
    );
    const replica = deployment.cluster!.nodes.find((n) => n.port === replicaPort)!;
    await replica.kill();
    await victim.kill();
    // Calls to the dead master may end only at the command deadline: 1 s keeps each check short,
    // and the outcome is the same either way (not OK).
    const env = () => ({ ...deployment.env, CACHE_COMMAND_TIMEOUT_MS: '1000' });
    // The surviving nodes mark the pair failed after the node timeout (1 s); until then check may pass.
    let result = await run(['check', '--json'], env());
    for (let tries = 0; tries < 100 && result.code === ExitCode.OK; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      result = await run(['check', '--json'], env());
    }
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    // Unserved slots, or the dead master's connection timing out: either way not OK.
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, code: expect.stringMatching(/^E_(REDIS_UNAVAILABLE|TIMEOUT)$/) });
    // And it stays failed: every later check says so, in human output too (no check passes on a
    // client that came up knowing no master).
    for (let i = 0; i < 4; i++) {
      const human = await run(['check'], env());
      expect(human.code, human.stdout).toBe(ExitCode.UNAVAILABLE);
      expect(human.stdout).toMatch(/^FAIL {2}Redis at redis-cluster:\/\/\S+ is not reachable$/m);
      expect(lines(human.stderr)).toHaveLength(1);
    }
    const stats = await run(['stats'], env());
    expect(stats.code, stats.stdout).toBe(ExitCode.UNAVAILABLE);
  }, 120_000);
});

describe('on a Sentinel group', () => {
  let deployment: RedisDeployment;

  beforeAll(async () => {
    deployment = await redisSentinel.start();
  });
  afterAll(async () => {
    await deployment?.stop();
  });

  it('check and stats follow the sentinels to the master', async () => {
    const master = deployment.sentinel!.master;
    const check = await run(['check'], deployment.env);
    expect(check.code, check.stderr).toBe(ExitCode.OK);
    expect(check.stdout).toMatch(/^OK {2}Redis at redis-sentinel:\/\/127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}\/finrisk-master answered in /m);
    expect((await run(['cache-pred', 'S1', 'credit', '{"risk_score": 0.5}'], deployment.env)).code).toBe(ExitCode.OK);
    expect(master.cli('EXISTS', `${prefix}:prediction:S1:credit`)).toBe('1');
    const stats = JSON.parse((await run(['stats', '--json'], deployment.env)).stdout) as Record<string, unknown>;
    expect(stats).toMatchObject({ status: 'healthy', backend: 'redis' });
    expect(stats.keys).toBe(Number(master.cli('DBSIZE')));
    expect(stats.nodes).toBeUndefined();
  });

  it('--sentinels and --sentinel-master connect like the variables', async () => {
    const { REDIS_SENTINELS, REDIS_SENTINEL_MASTER } = deployment.env;
    const result = await run(['get-pred', 'S1', 'credit', '--sentinels', REDIS_SENTINELS!, '--sentinel-master', REDIS_SENTINEL_MASTER!], {});
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(JSON.parse(result.stdout)).toEqual({ risk_score: 0.5 });
    const unknown = await run(['check', '--backend', 'redis', '--sentinels', REDIS_SENTINELS!, '--sentinel-master', 'nobody'], {});
    expect(unknown.code).toBe(ExitCode.UNAVAILABLE);
  });
});
