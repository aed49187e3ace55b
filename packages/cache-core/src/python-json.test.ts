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
});
