import { describe, expect, it } from 'vitest';
import { isGenerationToken, newGenerationToken } from './generations.js';
import { isStoredEntry } from './stored-entry.js';

describe('a stored entry is checked, not trusted', () => {
  const token = newGenerationToken();

  it('accepts what the SDK writes', () => {
    expect(isGenerationToken(token)).toBe(true);
    expect(isStoredEntry({ value: { s: 1 }, cachedAt: 1, generation: token, modelVersion: 'v1', freshUntil: 2 })).toBe(true);
    expect(isStoredEntry(Object.assign(Object.create(null) as object, { value: 1, cachedAt: 1 }))).toBe(true);
  });

  it('refuses a generation that is not a token the SDK writes', () => {
    for (const generation of ['short', 'x'.repeat(65), 'sixteen chars!!!', 42]) {
      expect(isStoredEntry({ value: 1, cachedAt: 1, generation })).toBe(false);
    }
  });

  it('never takes a field from a prototype, even a polluted one', () => {
    const proto = Object.prototype as Record<string, unknown>;
    // Checked first and asserted after: a prototype with `value` breaks property descriptors, vitest's too.
    let results: boolean[];
    proto.value = 'from the prototype';
    proto.generation = 'not-a-token';
    try {
      results = [isStoredEntry({ cachedAt: 1 }), isStoredEntry({ value: 1, cachedAt: 1 })];
    } finally {
      delete proto.value;
      delete proto.generation;
    }
    expect(results).toEqual([false, false]);
    expect(isStoredEntry(Object.create({ value: 1, cachedAt: 1 }) as object)).toBe(false);
  });
});
