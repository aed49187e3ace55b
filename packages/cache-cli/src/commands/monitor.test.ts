import type { CacheStats } from '@finrisk/cache-core';
import { describe, expect, it } from 'vitest';
import { evaluateHealth } from './monitor.js';

const base: CacheStats = {
  status: 'healthy', backend: 'redis', location: 'redis://127.0.0.1:6379/0', serverVersion: '7', connectedClients: 1,
  usedMemory: '1.00MB', usedMemoryBytes: 1024 * 1024, hitRate: 0.9, totalCommandsProcessed: 10, keyspaceHits: 9, keyspaceMisses: 1,
  maxMemoryBytes: 0, maxMemoryPolicy: 'noeviction', evictedKeys: 0, expiredKeys: 0, keys: 3, latencyMs: 0.2,
  process: { hits: 0, misses: 0, hitRate: 0, byKind: {} },
};
const thresholds = { minHitRate: 0.8, maxMemoryMb: 1000 };

describe('evaluateHealth (the guide monitoring rules)', () => {
  it('is ok above the hit rate and below the memory limit', () => {
    expect(evaluateHealth(base, thresholds)).toEqual({ state: 'ok', alerts: [] });
  });

  it('alerts on a low hit rate', () => {
    const check = evaluateHealth({ ...base, hitRate: 0.5, keyspaceHits: 1, keyspaceMisses: 1 }, thresholds);
    expect(check.state).toBe('alert');
    expect(check.alerts[0]).toBe('low cache hit rate: 50.00% < 80.00%');
  });

  it('does not alert on the hit rate before any read', () => {
    expect(evaluateHealth({ ...base, hitRate: 0, keyspaceHits: 0, keyspaceMisses: 0 }, thresholds).state).toBe('ok');
  });

  it('alerts on high memory', () => {
    const check = evaluateHealth({ ...base, usedMemoryBytes: 1001 * 1024 * 1024 }, thresholds);
    expect(check.alerts).toEqual(['high memory usage: 1001.00MB > 1000MB']);
  });

  it('is down when the backend did not answer, saying why', () => {
    expect(evaluateHealth({ ...base, status: 'unhealthy', error: 'refused' }, thresholds)).toEqual({
      state: 'down',
      alerts: ['Redis at redis://127.0.0.1:6379/0 is not reachable (refused)'],
    });
  });
});
