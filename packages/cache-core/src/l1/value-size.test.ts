import { describe, expect, it } from 'vitest';
import { OVER_LIMIT, jsonValueBytes, valueBytes } from './value-size.js';

describe('value sizes', () => {
  it('counts typed arrays and Buffers by their bytes, and strings by their characters', () => {
    expect(valueBytes(new Float64Array(1_000_000), Infinity)).toBeGreaterThanOrEqual(8_000_000);
    expect(valueBytes({ w: Buffer.alloc(5_000_000) }, Infinity)).toBeGreaterThanOrEqual(5_000_000);
    expect(jsonValueBytes('x'.repeat(1000), Infinity)).toBeGreaterThanOrEqual(1000);
    expect(jsonValueBytes('客'.repeat(1000), Infinity)).toBeGreaterThanOrEqual(2000);
  });

  it('stops at the limit: a value over it costs a walk up to the limit, not of all of it', () => {
    const big = { weights: new Float64Array(4_000_000), rest: Array.from({ length: 100_000 }, (_, i) => ({ i })) };
    expect(valueBytes(big, 16 * 1024 * 1024)).toBe(OVER_LIMIT);
    expect(jsonValueBytes(Array.from({ length: 100_000 }, () => ({})), 1024)).toBe(OVER_LIMIT);
  });

  it('counts an object reached twice once, and walks cycles', () => {
    const shared = { payload: 'y'.repeat(10_000) };
    const once = valueBytes({ a: shared }, Infinity);
    expect(valueBytes({ a: shared, b: shared, c: shared }, Infinity)).toBeLessThan(once + 200);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(valueBytes(new Map([['k', cyclic]]), Infinity)).toBeGreaterThan(0);
  });

  it('walks a value nested 100,000 deep without overflowing the stack', () => {
    const deep = Array.from({ length: 100_000 }).reduce<unknown>((inner) => [inner], 0);
    expect(jsonValueBytes(deep, Infinity)).toBeGreaterThan(100_000 * 48);
  });
});
