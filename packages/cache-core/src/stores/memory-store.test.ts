import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';

describe('MemoryStore options', () => {
  it('refuses a sweep interval a Node timer cannot hold (it would sweep every millisecond), or one that is not a positive number', () => {
    for (const sweepIntervalMs of [2 ** 31, 0, -1, Number.NaN]) {
      expect(() => new MemoryStore({ sweepIntervalMs }), String(sweepIntervalMs)).toThrow(expect.objectContaining({ code: 'E_INVALID_CONFIG', message: expect.stringContaining('sweepIntervalMs') }));
    }
    expect(() => new MemoryStore({ sweepIntervalMs: 2 ** 31 - 1 })).not.toThrow();
  });
});
