import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { CacheConfig } from './config.js';
import { hitRate, type CacheStats, type KindStats } from './stats.js';
import type { RedisStore } from './stores/redis-store.js';

/**
 * Fleet statistics: every SDK process publishes its per-kind counters to Redis, under
 * `{prefix}:stats:{service}:{instance}` with a TTL of three intervals, as plain JSON (so that
 * redis-cli, the Python service or a dashboard can read it). The counters in a process live in
 * that process; this is how `finrisk-cache stats` and the dashboard show the hit rate of each
 * service per kind.
 */

/** What one process publishes. */
export interface PublishedStats {
  /** Format of this record. */
  format: 'finrisk-stats';
  formatVersion: 1;
  service: string;
  /** `host:pid:random`, unique per process. */
  instance: string;
  host: string;
  pid: number;
  /** When the process's cache was created, ms since the epoch. */
  startedAt: number;
  /** When this record was written, ms since the epoch. */
  publishedAt: number;
  /** Seconds between publications: the record expires after three of them. */
  intervalSeconds: number;
  /** The process's counters, as its own `processStats()` reports them. */
  process: CacheStats['process'];
}

/** One service of the fleet: its instances' counters added up, per kind. */
export interface ServiceStats {
  service: string;
  /** Instances that published within their last three intervals. */
  instances: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses) over every instance, 0..1. */
  hitRate: number;
  byKind: Record<string, KindStats & { hitRate: number; l1HitRate: number }>;
  /** Bytes held in L1 over the instances (0 when L1 is off). */
  l1Bytes: number;
}

/** The fleet: every service that published recently, sorted by name. */
export interface FleetStats {
  services: ServiceStats[];
  /** The records read (one per instance), for tools that want them all. */
  instances: PublishedStats[];
}

const STATS_KIND = 'stats';

/** A new instance id: host, pid and a random part (two processes of one pid namespace never clash). */
export function newInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** The key one instance publishes under. */
export function statsKey(config: CacheConfig, instance: string): string {
  return `${config.keyPrefix}:${STATS_KIND}:${encodeURIComponent(config.serviceName)}:${encodeURIComponent(instance)}`;
}

/**
 * The sorted set of every instance's key, scored by when it last published: a reader finds the
 * live records without scanning the keyspace (SCAN MATCH walks every key, a million of them for
 * a handful of instances).
 */
export function statsIndexKey(config: CacheConfig): string {
  return `${config.keyPrefix}:${STATS_KIND}-index`;
}

/** How long a record, and the index, outlive the last publication: three intervals, the slowest instance's at most an hour. */
const MAX_LIFETIME_MS = 3 * 3600 * 1000;

/** Writes one process's record (plain JSON, TTL of three intervals) and its entry in the index. Store errors are the caller's. */
export async function publishStats(store: RedisStore, config: CacheConfig, instance: string, startedAt: number, process: CacheStats['process']): Promise<void> {
  const now = Date.now();
  const record: PublishedStats = {
    format: 'finrisk-stats', formatVersion: 1, service: config.serviceName, instance, host: hostname(), pid: globalThis.process.pid,
    startedAt, publishedAt: now, intervalSeconds: config.statsIntervalSeconds, process,
  };
  const key = statsKey(config, instance);
  const ttlMs = config.statsIntervalSeconds * 3000;
  await Promise.all([
    store.set(key, Buffer.from(JSON.stringify(record)), { ttlMs }),
    // Members older than any instance's lifetime are dropped; the index lives as long as someone publishes.
    store.indexAdd(statsIndexKey(config), key, now, now - MAX_LIFETIME_MS, MAX_LIFETIME_MS),
  ]);
}

const COUNTERS = ['hits', 'misses', 'writes', 'writeFailures', 'errors', 'operations', 'totalLatencyMs', 'l1Hits', 'l1Misses', 'l1Evictions', 'l1Invalidations', 'l1Bytes'] as const;

function isRecord(value: unknown): value is PublishedStats {
  const r = value as PublishedStats;
  return (
    typeof r === 'object' && r !== null && r.format === 'finrisk-stats' && r.formatVersion === 1 && typeof r.service === 'string' &&
    typeof r.instance === 'string' && typeof r.process === 'object' && r.process !== null && typeof r.process.byKind === 'object' && r.process.byKind !== null
  );
}

/** A finite, non-negative count from a record written by someone else (anything else counts 0). */
const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);

/**
 * Reads every live instance's record (the index, then one MGET per 1,000 keys; a record whose
 * TTL ran out is gone and skipped) and adds them up per service and kind. Records that are not
 * this format are skipped.
 */
export async function readFleetStats(store: RedisStore, config: CacheConfig): Promise<FleetStats> {
  const instances: PublishedStats[] = [];
  const listed = await store.indexMembers(statsIndexKey(config), Date.now() - MAX_LIFETIME_MS);
  for (let start = 0; start < listed.length; start += 1000) {
    const values = await store.getMany(listed.slice(start, start + 1000));
    for (const raw of values) {
      if (!raw) continue;
      try {
        const parsed: unknown = JSON.parse(Buffer.from(raw).toString('utf8'));
        if (isRecord(parsed)) instances.push(parsed);
      } catch {
        // not a record of this format: skipped
      }
    }
  }
  const services = new Map<string, ServiceStats>();
  for (const record of instances) {
    let service = services.get(record.service);
    if (!service) services.set(record.service, (service = { service: record.service, instances: 0, hits: 0, misses: 0, hitRate: 0, byKind: {}, l1Bytes: 0 }));
    service.instances++;
    for (const [kind, stats] of Object.entries(record.process.byKind)) {
      const total = (service.byKind[kind] ??= { ...Object.fromEntries(COUNTERS.map((c) => [c, 0])), hitRate: 0, l1HitRate: 0 } as ServiceStats['byKind'][string]);
      for (const counter of COUNTERS) total[counter] += count((stats as unknown as Record<string, unknown>)[counter]);
    }
  }
  for (const service of services.values()) {
    for (const kind of Object.values(service.byKind)) {
      kind.hitRate = hitRate(kind.hits, kind.misses);
      kind.l1HitRate = hitRate(kind.l1Hits, kind.l1Misses);
      service.hits += kind.hits;
      service.misses += kind.misses;
      service.l1Bytes += kind.l1Bytes;
    }
    service.hitRate = hitRate(service.hits, service.misses);
  }
  return {
    services: [...services.values()].sort((a, b) => a.service.localeCompare(b.service)),
    instances: instances.sort((a, b) => a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance)),
  };
}
