import { describe, expect, it } from 'vitest';
import { FLEET_LIMITS, parseStatsRecord } from './fleet-stats.js';
import { isServiceName } from './keys.js';
import { resolveConfig } from './config.js';

const PREFIX = 'finrisk';
const keyOf = (service: string, instance: string) => `${PREFIX}:stats:${encodeURIComponent(service)}:${encodeURIComponent(instance)}`;
const counters = { hits: 2, misses: 1, writes: 0, writeFailures: 0, errors: 0, operations: 3, totalLatencyMs: 1.5, l1Hits: 0, l1Misses: 0, l1Evictions: 0, l1Invalidations: 0, l1Bytes: 0 };
const record = (overrides: Record<string, unknown> = {}) => ({
  format: 'finrisk-stats', formatVersion: 1, service: 'scoring', instance: 'host-1:42:0a1b2c', host: 'host-1', pid: 42,
  startedAt: 1, publishedAt: 2, intervalSeconds: 10, process: { hits: 2, misses: 1, hitRate: 2 / 3, byKind: { prediction: counters } }, ...overrides,
});
const parse = (value: unknown, key = keyOf('scoring', 'host-1:42:0a1b2c')) =>
  parseStatsRecord(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), key, PREFIX);

describe('a fleet-statistics record is checked against its format and rebuilt', () => {
  it('keeps a record this SDK writes, rebuilt from its fields into null-prototype kinds', () => {
    const parsed = parse({ ...record(), extra: 'dropped' })!;
    expect(parsed).toMatchObject({ service: 'scoring', pid: 42, process: { hits: 2, misses: 1 } });
    expect(Object.getPrototypeOf(parsed.process.byKind)).toBeNull();
    expect(parsed.process.byKind.prediction).toEqual(counters);
    expect('extra' in parsed).toBe(false);
  });

  it('refuses reserved and malformed names, wrong keys, and inherited fields', () => {
    expect(parse(record({ process: { byKind: { constructor: counters } } }))).toBeNull();
    expect(parse(record({ process: { byKind: { prototype: counters } } }))).toBeNull();
    expect(parse(`{"__proto__":{"format":"finrisk-stats"},${JSON.stringify(record()).slice(1)}`)).toBeNull();
    expect(parse(record({ process: { byKind: { 'Upper Case': counters } } }))).toBeNull();
    expect(parse(record({ service: 'constructor' }), keyOf('constructor', 'host-1:42:0a1b2c'))).toBeNull();
    expect(parse(record({ instance: 'no-pid' }), keyOf('scoring', 'no-pid'))).toBeNull();
    expect(parse(record(), keyOf('other', 'host-1:42:0a1b2c'))).toBeNull();
    // What a record does not hold is not taken from a prototype, even a polluted one.
    const { format: _format, ...withoutFormat } = record();
    (Object.prototype as Record<string, unknown>).format = 'finrisk-stats';
    try {
      expect(parse(withoutFormat)).toBeNull();
    } finally {
      delete (Object.prototype as Record<string, unknown>).format;
    }
  });

  it('refuses a record past a cap: its bytes, its kinds', () => {
    const kinds = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, counters]));
    expect(parse(record({ process: { byKind: kinds(FLEET_LIMITS.kindsPerRecord) } }))).not.toBeNull();
    expect(parse(record({ process: { byKind: kinds(FLEET_LIMITS.kindsPerRecord + 1) } }))).toBeNull();
    const big = Buffer.from(JSON.stringify(record({ host: 'h' })).padEnd(FLEET_LIMITS.recordBytes + 1, ' '));
    expect(parseStatsRecord(big, keyOf('scoring', 'host-1:42:0a1b2c'), PREFIX)).toBeNull();
  });

  it('counts only finite, non-negative numbers', () => {
    const parsed = parse(record({ process: { byKind: { kv: { hits: -1, misses: 'x', writes: 1e400, errors: 3 } } } }))!;
    expect(parsed.process.byKind.kv).toMatchObject({ hits: 0, misses: 0, writes: 0, errors: 3 });
  });
});

describe('service names', () => {
  it('accepts package names and refuses what readers would refuse', () => {
    for (const name of ['scoring-service', '@finrisk/scoring', 'batch_loader.v2']) expect(isServiceName(name)).toBe(true);
    for (const name of ['', 'with space', 'constructor', '__proto__', 'toString', 'x'.repeat(129), 'é']) expect(isServiceName(name)).toBe(false);
    expect(() => resolveConfig({ envFile: false, env: {}, serviceName: 'constructor' })).toThrow(/CACHE_SERVICE_NAME="constructor" is invalid/);
    expect(() => resolveConfig({ envFile: false, env: { CACHE_SERVICE_NAME: 'my service' } })).toThrow(/CACHE_SERVICE_NAME/);
  });
});
