import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { CacheConfig } from './config.js';
import { isKindName, isServiceName } from './keys.js';
import { parseJsonWithoutProtoKeys } from './proto-key-guard.js';
import { emptyKindStats, hitRate, type CacheStats, type KindStats } from './stats.js';
import type { FleetStatsStore } from './stores/capabilities.js';

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
  /** Per kind (a null-prototype object: kind names come from other processes). */
  byKind: Record<string, KindStats & { hitRate: number; l1HitRate: number }>;
  /** Bytes held in L1 over the instances (0 when L1 is off). */
  l1Bytes: number;
}

/** The fleet: every service that published recently, sorted by name. */
export interface FleetStats {
  services: ServiceStats[];
  /**
   * The records read (one per instance), for tools that want them all: rebuilt from what was
   * checked (only the fields of {@link PublishedStats}, `process.byKind` a null-prototype object).
   */
  instances: PublishedStats[];
  /**
   * Records skipped because another process wrote what this SDK does not: not this format, a
   * service, instance or kind name outside the allow-list, a record past a cap
   * ({@link FLEET_LIMITS}: its bytes, its kinds, one service too many, too many kinds in one
   * service), or a record under a key that is not its own. 0 in a fleet of this SDK's processes.
   */
  rejected: number;
  /**
   * True when the index listed more live instances than one read takes
   * ({@link FLEET_LIMITS}.instancesPerRead): the figures are those of the ones read.
   */
  truncated: boolean;
}

/**
 * What one read of the fleet takes from Redis at most, whatever another process wrote: every
 * count is capped, so that the memory of a reader (the dashboard reads every few seconds) is
 * bounded by these numbers, not by the records. Past a cap a record is skipped and counted in
 * {@link FleetStats.rejected}; instances past the per-read cap are not read ({@link FleetStats.truncated}).
 * Bound: at most 2 MiB of record bytes in flight (32 records at a time) and, kept, about
 * 200 bytes per kind of each record and service: some 25 MB at every cap at once.
 */
export const FLEET_LIMITS = Object.freeze({
  /** Bytes read of one record (GETRANGE: a larger record is never read whole). A process with 64 kinds publishes about 20 KB. */
  recordBytes: 64 * 1024,
  /** Kinds in one record. */
  kindsPerRecord: 64,
  /** Instances read per call (the index's oldest live entries first). */
  instancesPerRead: 1000,
  /** Services added up. */
  services: 256,
  /** Distinct kinds over the instances of one service. */
  kindsPerService: 256,
});

/** Records read per round trip: at most 32 x 64 KiB in flight. */
const READ_BATCH = 32;

const STATS_KIND = 'stats';

/** Instance ids as {@link newInstanceId} makes them: `host:pid:6 hex digits`. */
const INSTANCE_RE = /^[A-Za-z0-9._-]{1,200}:\d{1,10}:[0-9a-f]{6}$/;

/** A new instance id: host, pid and a random part (two processes of one pid namespace never clash). */
export function newInstanceId(): string {
  // A host name may hold anything the OS allows; the id keeps to the characters readers accept.
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 200) || 'host';
  return `${host}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

function keyOf(keyPrefix: string, service: string, instance: string): string {
  return `${keyPrefix}:${STATS_KIND}:${encodeURIComponent(service)}:${encodeURIComponent(instance)}`;
}

/** The key one instance publishes under. */
export function statsKey(config: CacheConfig, instance: string): string {
  return keyOf(config.keyPrefix, config.serviceName, instance);
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
export async function publishStats(store: FleetStatsStore, config: CacheConfig, instance: string, startedAt: number, process: CacheStats['process']): Promise<void> {
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

/** A finite, non-negative count from a record written by someone else (anything else counts 0). */
const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);

/** An object's own property (never one inherited: a reader's prototypes are not the record's). */
function own(object: object, name: string): unknown {
  return Object.hasOwn(object, name) ? (object as Record<string, unknown>)[name] : undefined;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks one kind's counters and copies them into an object of its own: only the counters, each a count. */
function kindCounters(value: unknown): KindStats | null {
  if (!isObject(value)) return null;
  const out = {} as KindStats;
  for (const counter of COUNTERS) out[counter] = count(own(value, counter));
  return out;
}

/**
 * Checks a record read from `key` against the format, field by field, and rebuilds it from
 * what passed: null when anything is off. Another process wrote it, so nothing of it is used as
 * it is: a `__proto__` or `constructor` kind, a name outside the allow-lists, a record under a
 * key that is not its own (copied, or naming another service), more kinds than the cap.
 */
export function parseStatsRecord(raw: Uint8Array, key: string, keyPrefix: string): PublishedStats | null {
  if (raw.byteLength > FLEET_LIMITS.recordBytes) return null;
  let parsed: unknown;
  try {
    // A `__proto__` key anywhere (JSON.stringify never writes one) is refused, like in a payload.
    parsed = parseJsonWithoutProtoKeys(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(parsed) || own(parsed, 'format') !== 'finrisk-stats' || own(parsed, 'formatVersion') !== 1) return null;
  const service = own(parsed, 'service');
  const instance = own(parsed, 'instance');
  if (!isServiceName(service) || typeof instance !== 'string' || !INSTANCE_RE.test(instance) || keyOf(keyPrefix, service, instance) !== key) return null;
  const host = own(parsed, 'host');
  const pid = own(parsed, 'pid');
  const startedAt = own(parsed, 'startedAt');
  const publishedAt = own(parsed, 'publishedAt');
  const intervalSeconds = own(parsed, 'intervalSeconds');
  const proc = own(parsed, 'process');
  if (typeof host !== 'string' || host.length > 255 || !Number.isSafeInteger(pid) || (pid as number) < 0) return null;
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt) || typeof publishedAt !== 'number' || !Number.isFinite(publishedAt)) return null;
  if (!Number.isSafeInteger(intervalSeconds) || (intervalSeconds as number) < 1 || (intervalSeconds as number) > 3600 || !isObject(proc)) return null;
  const byKindIn = own(proc, 'byKind');
  if (!isObject(byKindIn)) return null;
  const kinds = Object.keys(byKindIn);
  if (kinds.length > FLEET_LIMITS.kindsPerRecord) return null;
  const byKind: Record<string, KindStats> = Object.create(null) as Record<string, KindStats>;
  for (const kind of kinds) {
    const counters = isKindName(kind) ? kindCounters((byKindIn as Record<string, unknown>)[kind]) : null;
    if (!counters) return null;
    byKind[kind] = counters;
  }
  const hits = count(own(proc, 'hits'));
  const misses = count(own(proc, 'misses'));
  const processStats: CacheStats['process'] = { hits, misses, hitRate: hitRate(hits, misses), byKind };
  const l1 = own(proc, 'l1');
  if (isObject(l1)) processStats.l1 = { serving: own(l1, 'serving') === true, bytes: count(own(l1, 'bytes')), maxBytes: count(own(l1, 'maxBytes')) };
  return {
    format: 'finrisk-stats', formatVersion: 1, service, instance, host, pid: pid as number,
    startedAt, publishedAt, intervalSeconds: intervalSeconds as number, process: processStats,
  };
}

type KindTotals = ServiceStats['byKind'][string];

/** Adds records up per service and kind, within the caps on services and on kinds per service. */
class FleetTotals {
  readonly #services = new Map<string, ServiceStats & { kinds: number }>();
  readonly instances: PublishedStats[] = [];

  /** Adds a checked record; false (nothing added) when it would take a service or its kinds past a cap. */
  add(record: PublishedStats): boolean {
    let service = this.#services.get(record.service);
    if (!service) {
      if (this.#services.size >= FLEET_LIMITS.services) return false;
      service = { service: record.service, instances: 0, hits: 0, misses: 0, hitRate: 0, byKind: Object.create(null) as ServiceStats['byKind'], l1Bytes: 0, kinds: 0 };
    }
    const kinds = Object.keys(record.process.byKind);
    const added = kinds.reduce((n, kind) => n + (service!.byKind[kind] === undefined ? 1 : 0), 0);
    if (service.kinds + added > FLEET_LIMITS.kindsPerService) return false;
    this.#services.set(record.service, service);
    service.kinds += added;
    service.instances++;
    for (const kind of kinds) {
      const stats = record.process.byKind[kind]!;
      const total = (service.byKind[kind] ??= { ...emptyKindStats(), hitRate: 0, l1HitRate: 0 } as KindTotals);
      for (const counter of COUNTERS) total[counter] += stats[counter];
    }
    this.instances.push(record);
    return true;
  }

  /** The services, sorted by name, with their hit rates. */
  services(): ServiceStats[] {
    const out: ServiceStats[] = [];
    for (const { kinds: _kinds, ...service } of this.#services.values()) {
      for (const kind of Object.values(service.byKind)) {
        kind.hitRate = hitRate(kind.hits, kind.misses);
        kind.l1HitRate = hitRate(kind.l1Hits, kind.l1Misses);
        service.hits += kind.hits;
        service.misses += kind.misses;
        service.l1Bytes += kind.l1Bytes;
      }
      service.hitRate = hitRate(service.hits, service.misses);
      out.push(service);
    }
    return out.sort((a, b) => a.service.localeCompare(b.service));
  }
}

/**
 * Reads the live instances' records (the index, oldest first, at most
 * {@link FLEET_LIMITS}.instancesPerRead; then each record's first 64 KiB, 32 per round trip; a
 * record whose TTL ran out is gone and skipped) and adds them up per service and kind. Every
 * record is checked and rebuilt ({@link parseStatsRecord}); those that fail are counted in
 * `rejected`, never added.
 */
export async function readFleetStats(store: FleetStatsStore, config: CacheConfig): Promise<FleetStats> {
  const cap = FLEET_LIMITS.instancesPerRead;
  const listed = await store.indexMembers(statsIndexKey(config), Date.now() - MAX_LIFETIME_MS, cap + 1);
  const truncated = listed.length > cap;
  const recordPrefix = `${config.keyPrefix}:${STATS_KIND}:`;
  let rejected = 0;
  const keys: string[] = [];
  for (const member of listed.slice(0, cap)) {
    // Only stats keys are read: the index is written by others too, and could name any key.
    if (member.startsWith(recordPrefix) && member.length <= 1024) keys.push(member);
    else rejected++;
  }
  const totals = new FleetTotals();
  for (let start = 0; start < keys.length; start += READ_BATCH) {
    const batch = keys.slice(start, start + READ_BATCH);
    const values = await store.getManyBounded(batch, FLEET_LIMITS.recordBytes);
    for (let i = 0; i < batch.length; i++) {
      const raw = values[i];
      if (raw === null) continue; // expired since it was listed
      const record = raw === undefined ? null : parseStatsRecord(raw, batch[i]!, config.keyPrefix);
      if (!record || !totals.add(record)) rejected++;
    }
  }
  return {
    services: totals.services(),
    instances: totals.instances.sort((a, b) => a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance)),
    rejected,
    truncated,
  };
}
