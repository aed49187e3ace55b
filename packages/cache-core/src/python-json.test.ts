import { describe, expect, it } from 'vitest';
import { parsePythonJson, pythonJsonDumps } from './python-json.js';

describe('python json', () => {
  it("writes the bytes of Python's json.dumps", () => {
    // json.dumps({"risk_score": 0.75, "decision": "approve", "tags": ["a", "b"], "ok": True, "none": None})
    expect(pythonJsonDumps({ risk_score: 0.75, decision: 'approve', tags: ['a', 'b'], ok: true, none: null })).toBe(
      '{"risk_score": 0.75, "decision": "approve", "tags": ["a", "b"], "ok": true, "none": null}',
    );
    // json.dumps({"name": "José 客"}) == '{"name": "Jos\\u00e9 \\u5ba2"}'
    expect(pythonJsonDumps({ name: 'José 客' })).toBe('{"name": "Jos\\u00e9 \\u5ba2"}');
    expect(pythonJsonDumps({ x: Number.NaN, y: -Infinity })).toBe('{"x": NaN, "y": -Infinity}');
    expect(pythonJsonDumps([])).toBe('[]');
    expect(pythonJsonDumps({})).toBe('{}');
  });

  it('reads what Python writes, NaN and Infinity included, but not inside strings', () => {
    expect(parsePythonJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN Infinity"}')).toEqual({
      a: Number.NaN, b: [Infinity, -Infinity], c: 'NaN Infinity',
    });
    expect(parsePythonJson('{"s": "a\\"NaN"}')).toEqual({ s: 'a"NaN' });
  });

  it('still refuses text that is not JSON', () => {
    expect(() => parsePythonJson('{"a": nan}')).toThrow(SyntaxError);
    expect(() => parsePythonJson('{bad')).toThrow(SyntaxError);
  });
});

describe('python json safety', () => {
  it('refuses a __proto__ key, with or without NaN in the text', () => {
    expect(() => parsePythonJson('{"__proto__": {"polluted": true}}')).toThrow(/__proto__/);
    expect(() => parsePythonJson('{"a": NaN, "__proto__": {"polluted": true}}')).toThrow(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parsePythonJson('{"text": "__proto__"}')).toEqual({ text: '__proto__' });
  });

  // json.dumps writes what it is given; a writer that escapes (or a forger) can spell the key
  // with \uXXXX escapes, and JSON.parse makes any spelling an own __proto__ property.
  it.each(['\\u005f_proto__', '\\u005F_proto__', '_\\u005fproto__', '__pr\\u006fto__', '__\\u0070\\u0072\\u006f\\u0074\\u006f__', '__proto_\\u005f'])(
    'refuses the key spelled "%s", with or without NaN in the text',
    (key) => {
      for (const text of [`{"age": 1, "${key}": {"isAdmin": true}}`, `{"age": NaN, "${key}": {"isAdmin": true}}`, `[{"a": [{"${key}": 1}]}]`]) {
        expect(JSON.stringify(JSON.parse(text.replace('NaN', '0')))).toContain('"__proto__"');
        expect(() => parsePythonJson(text), text).toThrow(/__proto__ key is not allowed/);
      }
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    },
  );

  it('reads escapes that are data, and the escapes Python writes for non-ASCII text', () => {
    expect(parsePythonJson('{"note": "\\u005f_proto__", "name": "Jos\\u00e9 \\u5ba2", "score": NaN}')).toEqual({ note: '__proto__', name: 'José 客', score: Number.NaN });
  });

  it('refuses a value nested too deeply to read with a SyntaxError, not a RangeError', () => {
    const depth = 200_000;
    for (const inner of ['NaN', '"\\u005f"']) {
      expect(() => parsePythonJson(`${'['.repeat(depth)}${inner}${']'.repeat(depth)}`)).toThrow(/nests too deeply/);
    }
  });
});

describe('python json: NaN and Infinity outside strings', () => {
  it('finds the bare words after escaped quotes and backslashes, and never inside strings', () => {
    expect(parsePythonJson('{"a\\\\": NaN, "b": "\\"NaN\\\\", "c": [-Infinity, "Infinity"], "d": "-Infinity"}')).toEqual({
      'a\\': Number.NaN, b: '"NaN\\', c: [-Infinity, 'Infinity'], d: '-Infinity',
    });
  });

  it('reads a long text of escaped quotes in one pass (a regex over strings would take quadratic time)', () => {
    // One string of 200,000 escaped quotes, then a NaN: every quote starts a string to a regex.
    const text = `["${'\\"'.repeat(200_000)}", NaN]`;
    const value = parsePythonJson(text) as [string, number];
    expect(value[0]).toHaveLength(200_000);
    expect(value[1]).toBeNaN();
  });
});
