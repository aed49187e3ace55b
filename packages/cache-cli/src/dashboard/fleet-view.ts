import type { ServiceStats } from '@finrisk/cache-core';
import { OTHER_KINDS } from './fleet-rates.js';

/** Services the dashboard keeps and sends per fleet read: the busiest; the others are added up under {@link OTHER_SERVICES}. */
export const MAX_FLEET_SERVICES = 50;
/** Kinds kept per service: the busiest; the others are added up under the kind `(other kinds)`. */
export const MAX_FLEET_KINDS = 20;
/** The service under which the services past {@link MAX_FLEET_SERVICES} are added up. */
export const OTHER_SERVICES = '(other services)';

/** The fleet's services as the dashboard keeps them, and what was added up to get there. */
export interface BoundedFleet {
  services: ServiceStats[];
  /** Services added up under {@link OTHER_SERVICES}. */
  otherServices: number;
  /** Kinds added up under `(other kinds)`, over every service kept. */
  otherKinds: number;
}

type KindFigures = ServiceStats['byKind'][string];

/** Reads and writes of a kind: what "busiest" means here. */
const activity = (k: KindFigures) => count(k.hits) + count(k.misses) + count(k.writes) + count(k.errors);
const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Adds every counter of `from` to `into` (the rates are derived afterwards): whatever counters cache-core publishes. */
function addCounters(into: Record<string, number>, from: object): void {
  for (const [field, value] of Object.entries(from)) {
    if (field === 'hitRate' || field === 'l1HitRate') continue;
    into[field] = (into[field] ?? 0) + count(value);
  }
}

function withRates(figures: Record<string, number>): KindFigures {
  const rate = (hits: number, misses: number) => (hits + misses > 0 ? hits / (hits + misses) : 0);
  return { ...figures, hitRate: rate(figures.hits ?? 0, figures.misses ?? 0), l1HitRate: rate(figures.l1Hits ?? 0, figures.l1Misses ?? 0) } as KindFigures;
}

/** A service's kinds, at most {@link MAX_FLEET_KINDS}: the busiest, and the rest added up. A null-prototype object (kinds are names from Redis). */
function boundKinds(byKind: ServiceStats['byKind']): { byKind: ServiceStats['byKind']; other: number } {
  const kinds = Object.keys(byKind);
  const kept = Object.create(null) as ServiceStats['byKind'];
  if (kinds.length <= MAX_FLEET_KINDS) {
    for (const kind of kinds) kept[kind] = byKind[kind]!;
    return { byKind: kept, other: 0 };
  }
  kinds.sort((a, b) => activity(byKind[b]!) - activity(byKind[a]!) || byName(a, b));
  const shown = kinds.slice(0, MAX_FLEET_KINDS - 1);
  for (const kind of shown) kept[kind] = byKind[kind]!;
  const rest: Record<string, number> = {};
  for (const kind of kinds.slice(MAX_FLEET_KINDS - 1)) addCounters(rest, byKind[kind]!);
  kept[OTHER_KINDS] = withRates(rest);
  return { byKind: kept, other: kinds.length - shown.length };
}

/** A service with its kinds bounded, and its totals as they were. */
function boundService(service: ServiceStats): { service: ServiceStats; other: number } {
  const { byKind, other } = boundKinds(service.byKind);
  return { service: { ...service, byKind }, other };
}

/**
 * What the dashboard keeps of one fleet read, whatever the records in Redis say: the
 * {@link MAX_FLEET_SERVICES} busiest services (reads and writes), the others added up as one
 * service {@link OTHER_SERVICES}, each with at most {@link MAX_FLEET_KINDS} kinds (the busiest,
 * the others added up as `(other kinds)`); in name order, as cache-core reads them.
 */
export function boundFleet(services: readonly ServiceStats[]): BoundedFleet {
  let list = [...services];
  let otherServices = 0;
  if (list.length > MAX_FLEET_SERVICES) {
    const busy = new Map(list.map((s) => [s, Object.values(s.byKind).reduce((n, k) => n + activity(k), 0)]));
    list.sort((a, b) => busy.get(b)! - busy.get(a)! || byName(a.service, b.service));
    const rest = list.slice(MAX_FLEET_SERVICES - 1);
    list = list.slice(0, MAX_FLEET_SERVICES - 1).sort((a, b) => byName(a.service, b.service));
    otherServices = rest.length;
    const totals: Record<string, number> = {};
    const kinds: Record<string, Record<string, number>> = Object.create(null);
    for (const s of rest) {
      addCounters(totals, { instances: s.instances, hits: s.hits, misses: s.misses, l1Bytes: s.l1Bytes });
      for (const [kind, figures] of Object.entries(s.byKind)) addCounters((kinds[kind] ??= {}), figures);
    }
    const byKind = Object.create(null) as Record<string, KindFigures>;
    for (const [kind, figures] of Object.entries(kinds)) byKind[kind] = withRates(figures);
    const hits = totals.hits ?? 0;
    const misses = totals.misses ?? 0;
    list.push({
      service: OTHER_SERVICES, instances: totals.instances ?? 0, hits, misses, hitRate: hits + misses > 0 ? hits / (hits + misses) : 0, l1Bytes: totals.l1Bytes ?? 0, byKind,
    });
  }
  let otherKinds = 0;
  const bounded = list.map((s) => {
    const { service, other } = boundService(s);
    otherKinds += other;
    return service;
  });
  return { services: bounded, otherServices, otherKinds };
}
