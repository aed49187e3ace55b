// fast-check arbitraries for the property tests: every kind of value the API accepts, and ids
// biased towards the characters that could break a key (glob, separator, escape, unicode).
import fc from 'fast-check';
import { validateId } from '../keys.js';

const key = fc.string({ unit: 'binary', maxLength: 8 }).filter((k) => k !== '__proto__');

/** Numbers, with NaN, -0, ±Infinity and the edges of doubles. */
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, -0, 0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2));

/** Any text: full unicode (astral planes, combining marks), and lone surrogates. */
const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string(), fc.constantFrom('\ud800', 'a\udfffb', '"__proto__"', '\u0000'));

const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  number,
  text,
  fc.date({ noInvalidDate: true }),
  fc.bigInt(),
  fc.float64Array(),
  fc.float32Array(),
  fc.int32Array(),
  fc.uint8Array(),
  fc.bigInt64Array(),
  fc.uint8Array().map((bytes) => Buffer.from(bytes)),
);

/** Every value the API accepts, nested a few levels: JSON-like values and what superjson adds. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 5 }),
    // Null-prototype objects are accepted too, but come back as plain objects (same data, not the same prototype).
    fc.dictionary(key, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 5, noNullPrototype: true }),
    fc.array(fc.tuple(fc.oneof(text, number), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
    fc.array(fc.oneof(text, number, fc.bigInt()), { maxLength: 5 }).map((items) => new Set(items)),
  ),
})).value;

/** Plain JSON values only (the JSON codec's path). */
export const jsonValue = fc.jsonValue();

function isValidId(id: string): boolean {
  try {
    validateId(id);
    return true;
  } catch {
    return false;
  }
}

/** Ids a caller could pass: mostly the characters that matter to keys and patterns. */
export const anyId = fc
  .oneof(
    fc.string({ unit: fc.constantFrom('*', '?', '[', ']', '^', '-', '\\', ':', '%', '3', 'A', 'a', ' ', 'ü', '😀', '顧'), minLength: 1, maxLength: 8 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  )
  .filter(isValidId);

/**
 * JSON text of a plain JSON `value`, with characters of its strings (keys and values) spelled as
 * `\uXXXX` escapes where `escapes` says so (cycled, one entry per UTF-16 unit), hex digits in
 * upper case when `upper`. JSON.parse reads every spelling as the same value, and so must the
 * SDK's guards: that is what the escaped-key properties check.
 */
export function respell(value: unknown, escapes: readonly boolean[], upper: boolean): string {
  let n = 0;
  const text = (s: string): string => {
    let out = '"';
    for (let i = 0; i < s.length; i++) {
      const unit = s.charCodeAt(i);
      if (escapes.length > 0 && escapes[n++ % escapes.length]) {
        const hex = unit.toString(16).padStart(4, '0');
        out += `\\u${upper ? hex.toUpperCase() : hex}`;
      } else out += JSON.stringify(s[i]).slice(1, -1);
    }
    return `${out}"`;
  };
  const walk = (v: unknown): string => {
    if (typeof v === 'string') return text(v);
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(walk).join(', ')}]`;
    return `{${Object.keys(v).map((k) => `${text(k)}: ${walk((v as Record<string, unknown>)[k])}`).join(', ')}}`;
  };
  return walk(value);
}

/** How to spell a JSON text: which characters become escapes, and in which hex case. */
export const spelling = fc.record({ escapes: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }), upper: fc.boolean() });

/**
 * A plain JSON value holding, somewhere inside, an object with an own `__proto__` key (the
 * shape JSON.parse builds from `{"__proto__": ...}`), for the properties that must refuse it.
 */
export const valueWithProtoKey: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.dictionary(key, jsonValue, { maxKeys: 3 }),
    jsonValue,
    fc.array(fc.oneof(fc.constant('array' as const), key), { maxLength: 4 }),
  )
  .map(([siblings, inner, path]) => {
    let value: unknown = Object.defineProperty({ ...siblings }, '__proto__', { value: inner, enumerable: true, writable: true, configurable: true });
    for (const step of path) value = step === 'array' ? [value] : { [step]: value };
    return value;
  });
