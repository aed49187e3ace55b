import type { KindStats, ServiceStats } from '@finrisk/cache-core';
import { describe, expect, it } from 'vitest';
import { OTHER_KINDS } from './fleet-rates.js';
import { boundFleet, MAX_FLEET_KINDS, MAX_FLEET_SERVICES, OTHER_SERVICES } from './fleet-view.js';

function kind(hits: number, misses = 0): ServiceStats['byKind'][string] {
  const k: KindStats = { hits, misses, writes: 0, writeFailures: 0, errors: 0, operations: hits + misses, totalLatencyMs: hits + misses, l1Hits: 0, l1Misses: 0, l1Evictions: 0, l1Invalidations: 0, l1Bytes: 0 };
  return { ...k, hitRate: hits + misses ? hits / (hits + misses) : 0, l1HitRate: 0 };
}

/** A service with `kinds` kinds; kind i has `busy * (i + 1)` hits. */
function service(name: string, kinds: number, busy: number): ServiceStats {
  const byKind: ServiceStats['byKind'] = {};
  let hits = 0;
  for (let i = 0; i < kinds; i++) {
    byKind[`k${String(i).padStart(5, '0')}`] = kind(busy * (i + 1));
    hits += busy * (i + 1);
  }
  return { service: name, instances: 1, hits, misses: 0, hitRate: 1, byKind, l1Bytes: 0 };
}

const totalHits = (services: ServiceStats[]) => services.reduce((n, s) => n + Object.values(s.byKind).reduce((m, k) => m + k.hits, 0), 0);

describe('boundFleet', () => {
  it('keeps a small fleet as it is', () => {
    const fleet = [service('a', 3, 1), service('b', 2, 5)];
    expect(boundFleet(fleet)).toEqual({ services: fleet, otherServices: 0, otherKinds: 0 });
  });

  it('keeps the busiest kinds of a service of 20,000, and adds the others up under (other kinds)', () => {
    const fleet = [service('forged', 20_000, 1)];
    const { services, otherKinds } = boundFleet(fleet);
    const kinds = Object.keys(services[0]!.byKind);
    expect(kinds).toHaveLength(MAX_FLEET_KINDS);
    expect(kinds).toContain(OTHER_KINDS);
    expect(kinds).toContain('k19999');
    expect(otherKinds).toBe(20_000 - (MAX_FLEET_KINDS - 1));
    expect(totalHits(services)).toBe(totalHits(fleet));
    expect(services[0]!.byKind[OTHER_KINDS]!.hitRate).toBe(1);
  });

  it('keeps the busiest services, in name order, and adds the others up under (other services)', () => {
    const fleet = Array.from({ length: MAX_FLEET_SERVICES + 10 }, (_, i) => service(`s${String(i).padStart(3, '0')}`, 30, i + 1));
    const { services, otherServices, otherKinds } = boundFleet(fleet);
    expect(services).toHaveLength(MAX_FLEET_SERVICES);
    expect(otherServices).toBe(11);
    expect(services.at(-1)!.service).toBe(OTHER_SERVICES);
    expect(services.at(-1)!.instances).toBe(11);
    // The least busy (s000 to s010) were added up; the others kept, in name order.
    expect(services.slice(0, -1).map((s) => s.service)).toEqual(fleet.slice(11).map((s) => s.service));
    expect(services.every((s) => Object.keys(s.byKind).length <= MAX_FLEET_KINDS)).toBe(true);
    expect(otherKinds).toBe(MAX_FLEET_SERVICES * (30 - (MAX_FLEET_KINDS - 1)));
    expect(totalHits(services)).toBe(totalHits(fleet));
  });

  it('reads a kind named __proto__ as a kind, and changes no prototype', () => {
    const forged = service('forged', 25, 1);
    const byKind = JSON.parse(`{"__proto__": ${JSON.stringify(kind(1_000_000))}}`) as ServiceStats['byKind'];
    Object.assign(forged, { byKind: Object.assign(byKind, forged.byKind) });
    const { services } = boundFleet([forged]);
    expect(Object.getPrototypeOf(services[0]!.byKind)).toBeNull();
    expect(Object.keys(services[0]!.byKind)).toContain('__proto__');
    expect(({} as Record<string, unknown>).hits).toBeUndefined();
  });
});
