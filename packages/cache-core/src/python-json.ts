import { FinRiskCacheError } from './errors.js';

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
 * Throws a SyntaxError for anything else that is not JSON.
 */
export function parsePythonJson(text: string): unknown {
  // A `__proto__` key in stored JSON is refused: it could change a prototype in a caller's merge.
  const guard = text.includes('"__proto__"');
  try {
    return guard ? JSON.parse(text, refuseProto) : JSON.parse(text);
  } catch (error) {
    if (!NON_FINITE.test(text) || (error instanceof SyntaxError && error.message.includes('__proto__'))) throw error;
  }
  // Replace the bare words outside strings with sentinel strings, then revive them.
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const rest = text.slice(i, i + 9);
    const word = rest.startsWith('NaN') ? 'NaN' : rest.startsWith('-Infinity') ? '-Infinity' : rest.startsWith('Infinity') ? 'Infinity' : null;
    if (word) {
      out += `"\\u0000${word}"`;
      i += word.length - 1;
    } else out += c;
  }
  return JSON.parse(out, (key: string, v: unknown) => {
    if (guard) refuseProto(key, v);
    if (v === '\u0000NaN') return Number.NaN;
    if (v === '\u0000Infinity') return Infinity;
    if (v === '\u0000-Infinity') return -Infinity;
    return v;
  });
}

function refuseProto(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new SyntaxError('__proto__ is not allowed as a property');
  return value;
}
