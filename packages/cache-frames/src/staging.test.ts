import { describe, expect, it } from 'vitest';
import { MAX_RECORDED_WRITES, parseRecord } from './staging.js';

const entry = (version: string, extra: Record<string, unknown> = {}) => ({ version, stagingMs: 60_000, startedAt: 1_700_000_000_000, ...extra });
const record = (writes: unknown) => ({ format: 'finrisk-frame-writes', formatVersion: 1, writes });

describe('parseRecord (the per-name record of writes in progress, read from Redis)', () => {
  it('reads what a writer writes, and nothing else of it', () => {
    const parsed = parseRecord({ ...record([entry('mx1abc', { note: 'x' })]), extra: true });
    expect(parsed).toStrictEqual([entry('mx1abc')]);
  });

  it('drops entries that are not the shape a writer writes, one by one', () => {
    const parsed = parseRecord(record([
      entry('ok1'),
      entry('v:1'), // a version that would make another key
      entry('../x'),
      entry('ok2', { stagingMs: -1 }),
      entry('ok3', { stagingMs: 1e12 }),
      entry('ok4', { startedAt: 'yesterday' }),
      null,
      'mx1',
      { __proto__: { version: 'inherited', stagingMs: 60_000, startedAt: 1 } },
      entry('ok5'),
    ]));
    expect(parsed.map((e) => e.version)).toEqual(['ok1', 'ok5']);
  });

  it('keeps at most the newest MAX_RECORDED_WRITES entries of a record of any length', () => {
    const parsed = parseRecord(record(Array.from({ length: 100_000 }, (_, i) => entry(`v${i}`))));
    expect(parsed).toHaveLength(MAX_RECORDED_WRITES);
    expect(parsed.at(-1)!.version).toBe('v99999');
  });

  it('reads anything else as an empty record', () => {
    for (const value of [null, 'text', 42, [], { format: 'other', formatVersion: 1, writes: [] }, record('not a list'), { ...record([]), formatVersion: 2 }]) {
      expect(parseRecord(value)).toEqual([]);
    }
  });
});
