import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { parseJsonObjectArgument } from './json-argument.js';
import { findJsonErrorPosition } from './json-error-position.js';

function failure(text: string): CliError {
  try {
    parseJsonObjectArgument(text, 'JSON');
  } catch (error) {
    if (CliError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`no error for ${text}`);
}

describe('parseJsonObjectArgument', () => {
  it('parses the guide prediction', () => {
    expect(parseJsonObjectArgument('{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}', 'JSON')).toEqual({
      risk_score: 0.75,
      decision: 'approve',
      confidence: 0.92,
    });
  });

  it('names the position of an unquoted value', () => {
    const error = failure('{"risk_score": 0.75, "decision": approve}');
    expect(error.code).toBe('E_BAD_INPUT');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("unexpected token 'a' at line 1, column 34 (position 33)");
    expect(error.message).toContain('"decision": >>approve}');
  });

  it('names the end of input for a truncated object', () => {
    expect(failure('{"a": 1,').message).toContain('position 8');
  });

  it('counts lines and columns in multi-line input', () => {
    expect(failure('{\n  "a": 1,\n  b: 2\n}').message).toContain('line 3, column 3 (position 14)');
  });

  it('refuses numbers JSON.parse turns into Infinity, naming their path', () => {
    expect(failure('{"x": 1e400}').message).toContain('a number too large for a 64-bit float at $.x');
    expect(failure('{"a": {"b c": [1, -1e999]}}').message).toContain('at $.a["b c"][1]');
    expect(parseJsonObjectArgument('{"x": 1e308, "y": 1e-400}', 'JSON')).toEqual({ x: 1e308, y: 0 });
  });

  it('names a position, never NaN, in very deep nesting', () => {
    const depth = 100_000;
    const error = failure(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth - 1)}`);
    expect(error.message).toContain(`at line 1, column ${6 * depth + 1} (position ${6 * depth})`); // the end of the text
    expect(error.message).not.toContain('NaN');
  });

  it('tells to quote an argument, not a file', () => {
    expect(failure('{a}').message).toContain('wrap the whole JSON in single quotes');
    expect(() => parseJsonObjectArgument('{a}', 'JSON in x.json', { fromArgument: false })).toThrow(/^(?!.*single quotes).*position 1/);
  });

  it('refuses arrays and scalars: predictions and features are objects', () => {
    expect(failure('[1, 2]').message).toContain('got an array');
    expect(failure('42').message).toContain('got a number');
    expect(failure('null').message).toContain('got null');
  });
});

describe('findJsonErrorPosition', () => {
  it.each([
    ['{"a": 1}', -1],
    ['[1, "x", true, null, {"b": -1.5e3}]', -1],
    ["{'a': 1}", 1],
    ['{"a": 01}', 7],
    ['{"a": 1,}', 8],
    ['{"a": 1} x', 9],
    ['{"a": "\u0001"}', 7],
    ['{"a": "\\q"}', 8],
    ['', 0],
    ['{"a": tru}', 9],
  ])('%j -> %i', (text, position) => {
    expect(findJsonErrorPosition(text)).toBe(position);
  });

  it('agrees with JSON.parse on what is valid', () => {
    for (const text of ['{"a": [1, 2, {"b": "c\\u00e9"}]}', '"x"', '-0.5', '{"a": 1', '[1,,2]', '{"a" 1}']) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      expect(findJsonErrorPosition(text) === -1, text).toBe(valid);
    }
  });
});
