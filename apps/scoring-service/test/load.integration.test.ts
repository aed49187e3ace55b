import { describe, expect, it } from 'vitest';
import { requestMix, runLoadTest } from '../bench/load-test.ts';

// The load test in its short form: behaviour only (every answer 200, the cache hits, no 5xx
// while Redis is down), never timings. The full run with figures is `pnpm bench`.
describe('load test, short form', () => {
  it('mixes repeat customers: 80% of the requests from 20% of them', () => {
    const next = requestMix(5000);
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const path = next();
      expect(path).toMatch(/^\/v1\/customers\/CUST\d{5}\/(credit|fraud)-risk$/);
      const id = path.split('/')[3]!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const hot = [...counts.entries()].filter(([id]) => Number(id.slice(4)) < 1000).reduce((n, [, c]) => n + c, 0);
    expect(hot / 20_000).toBeGreaterThan(0.78);
    expect(hot / 20_000).toBeLessThan(0.82);
    expect(counts.size).toBeGreaterThan(3000);
  });

  it('answers every request with 200, hits the cache, and keeps answering when Redis is killed', async () => {
    // The service's own default command deadline (250 ms) is missed on a loaded machine: reads then
    // fail (neither hit nor miss), five in a row open the circuit, and a short run can end with no
    // hit at all. This test is about behaviour, so the service gets a deadline a loaded machine meets.
    const [withCache, withL1, without, killed] = await runLoadTest({ durationS: 3, connections: 8, serviceEnv: { CACHE_COMMAND_TIMEOUT_MS: '5000' } });

    for (const r of [withCache!, withL1!, without!, killed!]) {
      expect(r.requests, r.name).toBeGreaterThan(0);
      expect(Object.keys(r.statuses), r.name).toEqual(['200']);
      expect(r.errors, r.name).toBe(0);
    }
    expect(withCache!.hitRate).toBeGreaterThan(0);
    expect(withCache!.metrics.predictionHits).toBeGreaterThan(0);
    expect(withL1!.metrics.predictionHits).toBeGreaterThan(0);
    expect(without!.hitRate).toBe(0);
    expect(without!.metrics.predictionHits + without!.metrics.predictionMisses).toBe(0);

    // Redis was down for the second half: requests kept coming, all 200, all computed.
    expect(killed!.afterKill!.requests).toBeGreaterThan(0);
    expect(Object.keys(killed!.afterKill!.statuses)).toEqual(['200']);
    expect(killed!.afterKill!.healthzStatus).toBe(503);
  }, 120_000);
});
