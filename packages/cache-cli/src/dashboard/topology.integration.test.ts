import { redisCluster, redisSentinel, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { until } from '@finrisk/test-utils/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST, running, startDashboard, type TestDashboard } from './test-dashboard.js';
import type { TopologyView } from './topology.js';

// The dashboard's Nodes view on a Redis Cluster and a Sentinel group: roles and health, and a
// node that goes away shows as such.

async function topology(dashboard: TestDashboard): Promise<TopologyView | null> {
  return ((await (await fetch(`${dashboard.base}/api/state`)).json()) as { topology: TopologyView | null }).topology;
}

describe('on a Redis Cluster', () => {
  let deployment: RedisDeployment;
  let dashboard: TestDashboard;
  beforeAll(async () => {
    deployment = await redisCluster.start();
    dashboard = running(await startDashboard(FAST, { ...deployment.env, CACHE_KEY_PREFIX: uniquePrefix('dash-cluster') }));
  });
  afterAll(async () => {
    await dashboard?.stop();
    await deployment?.stop();
  });

  it('lists every node with its role and health, and marks one that stops answering', async () => {
    // Every node answered the same sample: on a loaded machine one node's INFO can miss its
    // deadline for a sample and show as unreachable, which is the dashboard telling the truth.
    const view = await until('six cluster nodes, all answering', async () => {
      const t = await topology(dashboard);
      return t?.kind === 'cluster' && t.nodes.length === 6 && t.nodes.every((n) => n.healthy) ? t : undefined;
    }, 30_000);
    if (view.kind !== 'cluster') throw new Error('not a cluster view');
    expect(view.summary).toBe('3 masters, 3 replicas');
    expect(view.address).toBe(deployment.address);
    expect(view.nodes.map((n) => n.address).sort()).toEqual(deployment.cluster!.nodes.map((n) => `127.0.0.1:${n.port}`).sort());
    expect(view.nodes.every((n) => n.healthy)).toBe(true);

    const replica = view.nodes.find((n) => n.role === 'replica')!;
    const node = deployment.cluster!.nodes.find((n) => `127.0.0.1:${n.port}` === replica.address)!;
    await node.kill();
    const after = await until('the killed replica shown unreachable, and only it', async () => {
      const t = await topology(dashboard);
      return t?.kind === 'cluster' && t.nodes.length === 6 && t.nodes.every((n) => n.healthy === (n.address !== replica.address)) ? t : undefined;
    }, 30_000);
    if (after.kind !== 'cluster') throw new Error('not a cluster view');
    expect(after.nodes.filter((n) => !n.healthy).map((n) => n.address)).toEqual([replica.address]);
  }, 90_000);
});

describe('on a Sentinel group', () => {
  let deployment: RedisDeployment;
  let dashboard: TestDashboard;
  beforeAll(async () => {
    deployment = await redisSentinel.start();
    dashboard = running(await startDashboard(FAST, { ...deployment.env, CACHE_KEY_PREFIX: uniquePrefix('dash-sentinel') }));
  });
  afterAll(async () => {
    await dashboard?.stop();
    await deployment?.stop();
  });

  it('shows the master, its replica and every sentinel, and a sentinel that stops answering', async () => {
    const group = deployment.sentinel!;
    const view = await until('the sentinel view', async () => {
      const t = await topology(dashboard);
      return t?.kind === 'sentinel' && t.replicas.length === 1 && t.sentinels.every((s) => s.reachable) ? t : undefined;
    }, 30_000);
    if (view.kind !== 'sentinel') throw new Error('not a sentinel view');
    expect(view.masterName).toBe(group.masterName);
    expect(view.master).toMatchObject({ address: `127.0.0.1:${group.master.port}`, flags: 'master', healthy: true });
    expect(view.replicas).toEqual([expect.objectContaining({ address: `127.0.0.1:${group.replicas[0]!.port}`, linkStatus: 'ok', healthy: true })]);
    expect(view.sentinels.map((s) => s.address)).toEqual(group.seeds.split(','));
    expect(view.sentinels.every((s) => s.master === `127.0.0.1:${group.master.port}` && s.quorum === 2)).toBe(true);
    expect(view.agreed).toBe(true);

    const gone = group.sentinels[2]!;
    await gone.kill();
    const gonePort = `127.0.0.1:${gone.port}`;
    const after = await until('the killed sentinel shown unreachable, and only it', async () => {
      const t = await topology(dashboard);
      return t?.kind === 'sentinel' && t.sentinels.every((s) => s.reachable === (s.address !== gonePort)) && t.master?.healthy ? t : undefined;
    }, 30_000);
    if (after.kind !== 'sentinel') throw new Error('not a sentinel view');
    expect(after.sentinels.filter((s) => !s.reachable).map((s) => s.address)).toEqual([`127.0.0.1:${gone.port}`]);
    expect(after.master).toMatchObject({ healthy: true });
  }, 90_000);
});
