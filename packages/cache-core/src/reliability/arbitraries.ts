// fast-check arbitraries for the property tests: every kind of value the API accepts, and ids
// biased towards the characters that could break a key (glob, separator, escape, unicode).
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { encodeValueFast } from '../codec.js';
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

// ---------------------------------------------------------------- hostile payloads

/** An envelope header with these bytes: magic, version, codec, compression, encryption. */
const header = (version: number, codec: number, compression: number, encryption = 0) => Buffer.from([0xf1, 0x52, version, codec, compression, encryption]);

/** `body` as the body of an envelope of `codec`, deflated or not. */
const wrap = (codec: number, body: Buffer | string, deflated: boolean) =>
  Buffer.concat([header(1, codec, deflated ? 1 : 0), deflated ? deflateRawSync(body) : Buffer.from(body)]);

/** JSON text nested `depth` levels (arrays or objects) around `inner`. */
function nested(depth: number, shape: 'array' | 'object', inner: string): string {
  return shape === 'array' ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}` : `${'{"a": '.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

/**
 * Deflated bombs: envelopes of each codec whose body inflates to `zeros` bytes. Built once (a bomb
 * of 16 MiB of zeros takes ~20 ms to deflate), for the fuzz test's readers with a 1 MiB limit.
 */
export function bombs(sizes: readonly number[]): Buffer[] {
  return sizes.flatMap((zeros) => {
    const body = deflateRawSync(Buffer.alloc(zeros), { level: 9 });
    return [1, 2, 3, 4].map((codec) => Buffer.concat([header(1, codec, 1), body]));
  });
}

/**
 * A superjson envelope of `levels` arrays, each holding two references to the one before: a
 * few hundred bytes that expand to 2^levels nodes as a tree (JSON.stringify, a schema walk).
 */
export function sharedReferenceBomb(levels: number): Buffer {
  const json: Record<string, unknown> = { l0: { x: 1 } };
  const equalities: Record<string, string[]> = {};
  for (let i = 1; i <= levels; i++) {
    json[`l${i}`] = [null, null];
    equalities[`l${i - 1}`] = [`l${i}.0`, `l${i}.1`];
  }
  return wrap(2, JSON.stringify({ json, meta: { referentialEqualities: equalities, v: 1 } }), false);
}

/** Texts a forger could store as JSON: escaped __proto__ keys, deep nesting, Python's bare words, random text. */
export const hostileJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(valueWithProtoKey, spelling).map(([value, { escapes, upper }]) => respell(value, escapes, upper)),
  fc
    .record({
      depth: fc.integer({ min: 1000, max: 100_000 }),
      shape: fc.constantFrom('array' as const, 'object' as const),
      inner: fc.constantFrom('1', 'NaN', '"\\u005f"', '{"\\u005f_proto__": 1}', '"text"'),
    })
    .map(({ depth, shape, inner }) => nested(depth, shape, inner)),
  fc.tuple(jsonValue, fc.constantFrom('NaN', 'Infinity', '-Infinity', 'nan', '-NaN')).map(([value, word]) => `[${JSON.stringify(value)}, ${word}]`),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', 'N', 'a', 'u', '0', '5', 'f', ' '), maxLength: 64 }),
);

/**
 * Bytes a forger or a broken writer could leave under an SDK key: valid headers with random
 * bodies, truncated and flipped envelopes of real values, bombs (deflated, and of shared
 * references), escaped __proto__ keys and deep nesting in either JSON codec, compressed or not. Each read path must answer a value, a miss
 * with an error event, or a hit of null, and never throw.
 */
export function hostileEnvelope(bombPayloads: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const encoded = fc.tuple(anyValue, fc.constantFrom(0, 16)).map(([value, compressionThreshold]) => {
    // Small values are encoded on the calling thread: a Buffer, not a promise.
    const envelope = encodeValueFast(value, { compressionThreshold });
    if (envelope instanceof Promise) throw new Error('a generated value was too large to encode synchronously');
    return envelope;
  });
  return fc.oneof(
    // A valid header (or nearly), then random bytes.
    fc
      .tuple(fc.constantFrom(1, 1, 1, 2, 255), fc.integer({ min: 0, max: 6 }), fc.constantFrom(0, 0, 1, 1, 2), fc.constantFrom(0, 0, 0, 1, 7), fc.uint8Array({ maxLength: 300 }))
      .map(([version, codec, compression, encryption, body]) => Buffer.concat([header(version, codec, compression, encryption), body])),
    // A real envelope, truncated, with flipped bytes, or with bytes appended.
    fc
      .tuple(encoded, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.constantFrom('truncate', 'flip', 'append', 'flip-body-byte'))
      .map(([envelope, at, other, xor, extra, how]) => {
        const bytes = Buffer.from(envelope);
        if (how === 'truncate') return bytes.subarray(0, at % bytes.byteLength);
        if (how === 'append') return Buffer.concat([bytes, extra]);
        const i = how === 'flip' ? at % bytes.byteLength : 6 + (at % Math.max(1, bytes.byteLength - 6));
        if (i < bytes.byteLength) bytes[i] = bytes[i]! ^ xor;
        const j = other % bytes.byteLength;
        if (how === 'flip') bytes[j] = bytes[j]! ^ xor;
        return bytes;
      }),
    fc.constantFrom(...bombPayloads),
    // Shared references, level upon level: 2^levels nodes as a tree from a few hundred bytes.
    fc.integer({ min: 1, max: 40 }).map(sharedReferenceBomb),
    fc.tuple(hostileJsonText, fc.constantFrom(1, 2), fc.boolean()).map(([text, codec, deflated]) => wrap(codec, codec === 2 ? `{"json": ${text}}` : text, deflated)),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  );
}
