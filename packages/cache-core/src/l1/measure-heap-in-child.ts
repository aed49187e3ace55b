// Measures what values cost in the heap when L1 holds them, against what l1/value-size.ts
// estimates; run by l1-memory.integration.test.ts in a process of its own:
//
//   node --expose-gc --import tsx measure-heap-in-child.ts
//
// For each shape it decodes many distinct values (each differs in its numbers and strings, as
// values in L1 do), holds them as L1 does (JSON frozen and shared; other values as the private
// copy a hit clones), and reads the growth of the heap and of ArrayBuffer memory after a full GC.
// One JSON line per shape: { shape, values, actualPerValue, estimatePerValue }.
import { decodeValueFast, encodeValueFast } from '../codec.js';
import { deepFreeze } from './deep-freeze.js';
import { jsonValueBytes, valueBytes } from './value-size.js';

declare const gc: () => void;

type Make = (i: number) => unknown;
const range = <T>(n: number, f: (j: number) => T) => Array.from({ length: n }, (_, j) => f(j));

/** Shapes that are JSON (held frozen) and shapes that are not (held as a copy). Counts keep each shape near 15 MB of heap. */
const JSON_SHAPES: [string, number, Make][] = [
  ['prediction', 50_000, (i) => ({ risk_score: (i % 1000) / 1001, decision: i % 2 ? 'approve' : 'review', confidence: 0.5 + (i % 97) / 200, model_version: `v1.${i % 50}.0` })],
  ['feature vector (50 fields)', 10_000, (i) => Object.fromEntries(range(50, (j) => [`feature_${j}`, j % 3 === 0 ? i + j * 1.5 : j % 3 === 1 ? `v${j}-${i}` : i + j]))],
  ['object-dense: 1,000 records of 3 fields', 100, (i) => range(1000, (j) => ({ id: i * 1000 + j, score: (i + j) / 7, ok: j % 2 === 0 }))],
  ['object-dense: 5,000 empty objects', 40, () => range(5000, () => ({}))],
  ['object-dense: 1,000 objects of never-seen keys', 30, (i) => range(1000, (j) => ({ [`k${i}_${j}`]: j }))],
  ['object-dense: one object of 5,000 keys', 30, (i) => Object.fromEntries(range(5000, (j) => [`key_${j}`, i + j]))],
  ['nested arrays of integers', 150, (i) => range(1000, (j) => [i, j, i + j])],
  ['nested arrays of doubles', 50, (i) => range(200, (j) => range(50, (k) => i + j + k / 3))],
  ['deep nesting (200 levels)', 2500, (i) => range(200, () => 0).reduce<unknown>((inner) => ({ a: inner }), i)],
  ['long ASCII string', 50, (i) => ({ text: `${i}`.padEnd(200_000, 'x') })],
  ['long non-Latin-1 string', 50, (i) => ({ text: `${i}`.padEnd(100_000, '客') })],
  ['short strings', 50, (i) => range(2000, (j) => `s${i}-${j}`)],
];
const OTHER_SHAPES: [string, number, Make][] = [
  ['Float64Array weights in an object', 200, (i) => ({ mean: new Float64Array(2048).fill(i), scale: new Float64Array(2048).fill(i / 2), fittedAt: new Date(i) })],
  ['Map of 1,000 entries', 100, (i) => new Map(range(1000, (j) => [`k${j}`, i + j / 3]))],
  ['Set of 1,000 numbers', 150, (i) => new Set(range(1000, (j) => i * 1000 + j))],
  ['Dates in records', 100, (i) => range(500, (j) => ({ at: new Date(i * 1000 + j), n: j }))],
  ['a Buffer', 1500, (i) => Buffer.alloc(8192, i)],
];

const heap = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const settle = () => {
  gc();
  gc();
  gc();
};

function measure(shape: string, count: number, make: Make, json: boolean): void {
  // The stored forms first, as bytes (outside the measurement, and unchanged by it: V8 may turn a
  // string it parsed into another representation, which would show in the measurement), then the
  // values L1 would hold, decoded from them as a read does.
  const stored = range(count, (i) => (json ? Buffer.from(JSON.stringify(make(i))) : (encodeValueFast(make(i), { compressionThreshold: 0 }) as Buffer)));
  const held: unknown[] = new Array(count);
  (globalThis as { keep?: unknown }).keep = [stored, held];
  settle();
  const before = heap();
  let estimate = 0;
  for (let i = 0; i < count; i++) {
    if (json) {
      const value = JSON.parse(stored[i]!.toString('utf8')) as unknown;
      estimate += jsonValueBytes(value, Number.MAX_SAFE_INTEGER);
      held[i] = deepFreeze(value);
    } else {
      const value = decodeValueFast(stored[i]!);
      estimate += valueBytes(value, Number.MAX_SAFE_INTEGER);
      held[i] = Buffer.isBuffer(value) ? value : structuredClone(value);
    }
  }
  settle();
  const actual = heap() - before;
  (globalThis as { keep?: unknown }).keep = [stored, held];
  process.stdout.write(`${JSON.stringify({ shape, values: count, actualPerValue: actual / count, estimatePerValue: estimate / count })}\n`);
}

const only = process.argv[2];
for (const [shape, count, make] of JSON_SHAPES) if (!only || shape === only) measure(shape, count, make, true);
for (const [shape, count, make] of OTHER_SHAPES) if (!only || shape === only) measure(shape, count, make, false);
