import { describe, expect, it } from 'vitest';
import { KindStatsRegistry } from '../kind-stats.js';
import { deepFreeze } from './deep-freeze.js';
import { L1_MISS, LocalTier } from './local-tier.js';

const config = { maxBytes: 1024 * 1024, kinds: ['prediction', 'feature'] as const, maxEntryBytes: 64 * 1024, maxTtlMs: 60_000 };
const key = (k: string) => ({ kind: 'feature', key: `fin:feature:${k}` });
const noDecode = () => {
  throw new Error('no bytes held');
};

function tier(overrides: Partial<typeof config> = {}) {
  const stats = new KindStatsRegistry();
  const local = new LocalTier({ ...config, ...overrides, kinds: [...(overrides.kinds ?? config.kinds)] }, 'fin', stats, true);
  local.resume();
  return { local, stats };
}

function fill(local: LocalTier, k: string, value: unknown) {
  const f = local.startFill(key(k).key);
  local.finishFill(f, 'feature', { value: deepFreeze(value), size: 30 }, undefined);
}

describe('LocalTier', () => {
  it('keeps a value read, and serves it', () => {
    const { local, stats } = tier();
    fill(local, 'a', { v: 1 });
    expect(local.read(key('a'), noDecode)).toEqual({ v: 1 });
    expect(stats.of('feature')).toMatchObject({ l1Hits: 1, l1Misses: 0 });
    expect(local.read(key('b'), noDecode)).toBe(L1_MISS);
    expect(stats.of('feature').l1Misses).toBe(1);
  });

  it('drops a read that an invalidation of its key overtook: the old value is never put back', () => {
    const { local } = tier();
    const f = local.startFill(key('a').key);
    local.invalidate(key('a').key); // a write by someone, heard while the read was in flight
    local.finishFill(f, 'feature', { value: { v: 'old' }, size: 30 }, undefined);
    expect(local.read(key('a'), noDecode)).toBe(L1_MISS);
    // A read that starts after the invalidation fills as usual.
    fill(local, 'a', { v: 'new' });
    expect(local.read(key('a'), noDecode)).toEqual({ v: 'new' });
  });

  it('drops every read in flight when tracking is lost or re-established, and serves nothing in between', () => {
    const { local } = tier();
    fill(local, 'a', { v: 1 });
    const during = local.startFill(key('b').key);
    local.suspend();
    expect(local.read(key('a'), noDecode)).toBe(L1_MISS);
    local.finishFill(during, 'feature', { value: { v: 2 }, size: 30 }, undefined);
    const beforeResume = local.startFill(key('c').key);
    local.resume();
    local.finishFill(beforeResume, 'feature', { value: { v: 3 }, size: 30 }, undefined);
    expect(local.read(key('b'), noDecode)).toBe(L1_MISS);
    expect(local.read(key('c'), noDecode)).toBe(L1_MISS);
    fill(local, 'c', { v: 3 });
    expect(local.read(key('c'), noDecode)).toEqual({ v: 3 });
  });

  it('empties on a flush of the server and drops reads in flight', () => {
    const { local } = tier();
    fill(local, 'a', { v: 1 });
    const f = local.startFill(key('b').key);
    local.invalidateAll();
    local.finishFill(f, 'feature', { value: { v: 2 }, size: 30 }, undefined);
    expect(local.read(key('a'), noDecode)).toBe(L1_MISS);
    expect(local.read(key('b'), noDecode)).toBe(L1_MISS);
    expect(local.isServing).toBe(true);
  });

  it('holds nothing over the per-entry cap, nothing of a kind it does not hold, nothing outside its prefixes', () => {
    const { local } = tier({ maxEntryBytes: 1000 });
    const f = local.startFill(key('big').key);
    local.finishFill(f, 'feature', { bytes: new Uint8Array(2000), size: 2000 }, undefined);
    expect(local.read(key('big'), noDecode)).toBe(L1_MISS);
    expect(local.covers({ kind: 'kv', key: 'fin:kv:x' })).toBe(false);
    expect(local.covers({ kind: 'feature', key: 'other:feature:x' })).toBe(false);
    expect(local.covers({ kind: 'feature', key: 'features:C1', format: 'json' })).toBe(true);
    expect(local.covers({ kind: 'generation', key: 'fin:generation:prediction:credit' })).toBe(true);
    expect(local.covers({ kind: 'feature', key: 'fin:feature:x', local: false })).toBe(false);
    // Without the Python layout, its key spaces are not tracked, so never held.
    const finriskOnly = new LocalTier({ ...config, kinds: [...config.kinds] }, 'fin', new KindStatsRegistry());
    expect(finriskOnly.covers({ kind: 'feature', key: 'features:C1', format: 'json' })).toBe(false);
    expect(finriskOnly.prefixes).toEqual(['fin:prediction:', 'fin:feature:', 'fin:generation:']);
  });

  it('counts its bytes exactly and evicts to stay under its size', () => {
    const { local, stats } = tier({ maxBytes: 10_000, maxEntryBytes: 10_000 });
    for (let i = 0; i < 50; i++) {
      const f = local.startFill(key(`k${i}`).key);
      local.finishFill(f, 'feature', { bytes: new Uint8Array(500), size: 500 }, undefined);
      expect(local.bytes).toBeLessThanOrEqual(10_000);
    }
    expect(stats.of('feature').l1Evictions).toBeGreaterThan(0);
    expect(stats.of('feature').l1Bytes).toBe(local.bytes);
    local.suspend();
    expect(local.bytes).toBe(0);
    expect(stats.of('feature').l1Bytes).toBe(0);
  });

  it('decodes held bytes on every hit, so callers get their own copy', () => {
    const { local } = tier();
    const f = local.startFill(key('m').key);
    local.finishFill(f, 'feature', { bytes: new Uint8Array([1, 2, 3]), size: 3 }, undefined);
    const decode = (bytes: Uint8Array) => new Map([['n', bytes.length]]);
    const one = local.read(key('m'), decode);
    const two = local.read(key('m'), decode);
    expect(one).toEqual(new Map([['n', 3]]));
    expect(one).not.toBe(two);
  });

  it('clones a private copy on every hit for values a freeze cannot protect', () => {
    const { local } = tier();
    const f = local.startFill(key('t').key);
    local.finishFill(f, 'feature', { pristine: { weights: new Float64Array([1, 2]) }, size: 16 }, undefined);
    const one = local.read(key('t'), noDecode) as { weights: Float64Array };
    one.weights[0] = 99;
    expect(local.read(key('t'), noDecode)).toEqual({ weights: new Float64Array([1, 2]) });
  });

  it('keeps attachments with their entry and drops them with it', () => {
    const { local } = tier();
    fill(local, 'manifest', { version: 'v1' });
    expect(local.attach(key('manifest').key, 'table:v1', { rows: 3 }, 100)).toBe(true);
    expect(local.attachment(key('manifest').key, 'table:v1')).toEqual({ rows: 3 });
    local.invalidate(key('manifest').key);
    expect(local.attachment(key('manifest').key, 'table:v1')).toBeUndefined();
    expect(local.attach(key('manifest').key, 'table:v1', { rows: 3 }, 100)).toBe(false);
    expect(local.bytes).toBe(0);
  });

  it('freezes values all the way down', () => {
    const value = deepFreeze({ a: [{ b: 1 }], c: { d: 'x' } });
    expect(Object.isFrozen(value.a[0])).toBe(true);
    expect(Object.isFrozen(value.c)).toBe(true);
  });
});

describe('deepFreeze', () => {
  it('freezes a value nested 100,000 levels deep without overflowing the stack', () => {
    let deep: unknown[] = [];
    const root = deep;
    for (let i = 0; i < 100_000; i++) deep = (deep[0] = []) as unknown[];
    expect(() => deepFreeze(root)).not.toThrow();
    expect(Object.isFrozen(deep)).toBe(true);
  });
});
