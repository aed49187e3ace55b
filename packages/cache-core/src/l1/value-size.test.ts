import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OVER_LIMIT, jsonValueBytes, valueBytes } from './value-size.js';

const CHILD = fileURLToPath(new URL('./measure-heap-in-child.ts', import.meta.url));

interface Row {
  shape: string;
  values: number;
  actualPerValue: number;
  estimatePerValue: number;
}

describe('what L1 counts for a value is what it costs in the heap', () => {
  // In a process of its own, with a GC it can call (and no bytecode flushing, which would free
  // the loader's code during a measurement and show as negative growth).
  it('never undercounts real heap growth by more than 1.5x, and overcounts by at most 2x (object-dense JSON, predictions, feature vectors, nested arrays, long strings, typed arrays, Maps, Sets, Dates)', () => {
    const run = spawnSync(process.execPath, ['--expose-gc', '--no-flush-bytecode', '--import', 'tsx', CHILD], { encoding: 'utf8', timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Row);
    expect(rows.length).toBeGreaterThanOrEqual(17);
    const ratios = rows.map((r) => ({ shape: r.shape, ratio: Number((r.estimatePerValue / r.actualPerValue).toFixed(2)) }));
    // Every shape listed with its ratio on failure: which one moved is the finding.
    expect(ratios.filter((r) => !(r.ratio >= 1 / 1.5 && r.ratio <= 2))).toEqual([]);
  }, 300_000);
});

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
