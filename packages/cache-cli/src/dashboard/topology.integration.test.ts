import { redisCluster, redisSentinel, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, FAST, running, startDashboard, type TestDashboard } from './test-dashboard.js';
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
    const view = await eventually(async () => {
      const t = await topology(dashboard);
      return t?.kind === 'cluster' && t.nodes.length === 6 ? t : undefined;
    }, 30_000, 'six cluster nodes');
    if (view.kind !== 'cluster') throw new Error('not a cluster view');
    expect(view.summary).toBe('3 masters, 3 replicas');
    expect(view.address).toBe(deployment.address);
    expect(view.nodes.map((n) => n.address).sort()).toEqual(deployment.cluster!.nodes.map((n) => `127.0.0.1:${n.port}`).sort());
    expect(view.nodes.every((n) => n.healthy)).toBe(true);

    const replica = view.nodes.find((n) => n.role === 'replica')!;
    const node = deployment.cluster!.nodes.find((n) => `127.0.0.1:${n.port}` === replica.address)!;
    await node.kill();
    const after = await eventually(async () => {
      const t = await topology(dashboard);
      return t?.kind === 'cluster' && t.nodes.some((n) => n.address === replica.address && !n.healthy) ? t : undefined;
    }, 30_000, 'the killed replica shown unreachable');
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
    const view = await eventually(async () => {
      const t = await topology(dashboard);
      return t?.kind === 'sentinel' && t.replicas.length === 1 && t.sentinels.every((s) => s.reachable) ? t : undefined;
    }, 30_000, 'the sentinel view');
    if (view.kind !== 'sentinel') throw new Error('not a sentinel view');
    expect(view.masterName).toBe(group.masterName);
    expect(view.master).toMatchObject({ address: `127.0.0.1:${group.master.port}`, flags: 'master', healthy: true });
    expect(view.replicas).toEqual([expect.objectContaining({ address: `127.0.0.1:${group.replicas[0]!.port}`, linkStatus: 'ok', healthy: true })]);
    expect(view.sentinels.map((s) => s.address)).toEqual(group.seeds.split(','));
    expect(view.sentinels.every((s) => s.master === `127.0.0.1:${group.master.port}` && s.quorum === 2)).toBe(true);
    expect(view.agreed).toBe(true);

    const gone = group.sentinels[2]!;
    await gone.kill();
    const after = await eventually(async () => {
      const t = await topology(dashboard);
      return t?.kind === 'sentinel' && t.sentinels.some((s) => !s.reachable) ? t : undefined;
    }, 30_000, 'the killed sentinel shown unreachable');
    if (after.kind !== 'sentinel') throw new Error('not a sentinel view');
    expect(after.sentinels.filter((s) => !s.reachable).map((s) => s.address)).toEqual([`127.0.0.1:${gone.port}`]);
    expect(after.master).toMatchObject({ healthy: true });
  }, 90_000);
});
