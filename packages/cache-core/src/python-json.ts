import { FinRiskCacheError } from './errors.js';
import { mayHoldProtoKey, parseJsonWithoutProtoKeys, RefusedJsonError, refuseProtoKey, withDepthError } from './proto-key-guard.js';

/**
 * Plain JSON as Python's `json.dumps` writes it with its defaults (`", "` and `": "` as
 * separators, `ensure_ascii=True`, `NaN` / `Infinity` as bare words), for keys shared with the
 * Python FinRisk service. Python reads what this writes and this reads what Python writes.
 * Limits: no type fidelity beyond JSON (a Date becomes its ISO string, a Map is refused), and a
 * float that has an integral value is written as `75000` where Python would write `75000.0`.
 */
export function pythonJsonDumps(value: unknown): string {
  return dump(value, 'value', 0);
}

function dump(value: unknown, path: string, depth: number): string {
  if (depth > 500) throw new FinRiskCacheError('E_INVALID_VALUE', `value nests deeper than 500 levels at ${path}`);
  switch (typeof value) {
    case 'string':
      return asciiString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (Number.isNaN(value)) return 'NaN';
      if (value === Infinity) return 'Infinity';
      if (value === -Infinity) return '-Infinity';
      return Object.is(value, -0) ? '-0.0' : JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((v, i) => dump(v ?? null, `${path}[${i}]`, depth + 1)).join(', ')}]`;
      if (value instanceof Date) return asciiString(value.toISOString());
      const proto = Object.getPrototypeOf(value) as object | null;
      if (proto !== Object.prototype && proto !== null) {
        throw new FinRiskCacheError('E_INVALID_VALUE', `the finrisk-python key layout stores plain JSON only; ${path} is a ${(value as object).constructor?.name ?? 'object'}`);
      }
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        parts.push(`${asciiString(k)}: ${dump(v, `${path}.${k}`, depth + 1)}`);
      }
      return `{${parts.join(', ')}}`;
    }
    default:
      throw new FinRiskCacheError('E_INVALID_VALUE', `the finrisk-python key layout stores plain JSON only; ${path} is a ${typeof value}`);
  }
}

function asciiString(text: string): string {
  // JSON.stringify escapes quotes, backslashes and control characters like Python; Python's
  // ensure_ascii additionally writes every non-ASCII UTF-16 unit as \uXXXX.
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const NON_FINITE = /NaN|-?Infinity/;

/**
 * Parses JSON, also accepting the bare `NaN`, `Infinity` and `-Infinity` that Python writes.
 * Refuses a `__proto__` key however it is spelled (`"\u005f_proto__"` too) and a value nested
 * too deeply to read. Throws a SyntaxError for anything it refuses and anything else that is not JSON.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return parseJsonWithoutProtoKeys(text);
  } catch (error) {
    if (error instanceof RefusedJsonError || !NON_FINITE.test(text)) throw error;
  }
  const out = quoteNonFiniteWords(text);
  const guard = mayHoldProtoKey(text);
  return withDepthError(() =>
    JSON.parse(out, (key: string, v: unknown) => {
      if (guard) refuseProtoKey(key, v);
      if (v === '\u0000NaN') return Number.NaN;
      if (v === '\u0000Infinity') return Infinity;
      if (v === '\u0000-Infinity') return -Infinity;
      return v;
    }),
  );
}

/**
 * Replaces the bare words outside strings with sentinel strings that the reviver turns back into
 * numbers. One pass that copies slices between the words: the character-by-character
 * concatenation this replaced took 24 s and 1.8 GB for a 44 MB value (a cons string per
 * character), and a regex over strings is quadratic on hostile text such as `"\"\"\"...`.
 */
function quoteNonFiniteWords(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === 0x4e /* N */ || c === 0x49 /* I */ || c === 0x2d /* - */) {
      const word = text.startsWith('NaN', i) ? 'NaN' : text.startsWith('Infinity', i) ? 'Infinity' : text.startsWith('-Infinity', i) ? '-Infinity' : null;
      if (word === null) continue;
      parts.push(text.slice(copied, i), `"\\u0000${word}"`);
      i += word.length - 1;
      copied = i + 1;
    }
  }
  parts.push(text.slice(copied));
  return parts.join('');
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
