import { promisify } from 'node:util';
import { deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';
import { SuperJSON } from 'superjson';
import { FinRiskCacheError } from './errors.js';
import { settingDefault } from './settings.js';
import { mayHoldProtoKey, RefusedJsonError, refuseProtoKey, withDepthError } from './proto-key-guard.js';

/**
 * The payload envelope. Every value the SDK stores starts with a 6-byte header:
 *
 * | byte | meaning                                                   |
 * |------|-----------------------------------------------------------|
 * | 0-1  | magic `0xF1 0x52`: written by this SDK                    |
 * | 2    | format version (this SDK writes and reads 1)              |
 * | 3    | codec: 1 JSON, 2 superjson, 3 Uint8Array, 4 Buffer        |
 * | 4    | compression: 0 none, 1 deflate-raw                        |
 * | 5    | encryption: 0 none (other values are reserved)            |
 *
 * A later SDK can add codecs or compressions under a new format version; this one reports
 * E_PAYLOAD_UNSUPPORTED for anything it does not know, and callers treat that as a miss.
 */
export const ENVELOPE_MAGIC_0 = 0xf1;
export const ENVELOPE_MAGIC_1 = 0x52;
/** The envelope format version this SDK writes. */
export const ENVELOPE_VERSION = 1;
/** Size of the envelope header, in bytes. */
export const HEADER_BYTES = 6;

/** Codec ids stored in byte 3. */
export const Codec = { json: 1, superjson: 2, bytes: 3, buffer: 4 } as const;
/** Compression ids stored in byte 4. */
export const Compression = { none: 0, deflate: 1 } as const;

const deflateRawAsync = promisify(deflateRaw);
const inflateRawAsync = promisify(inflateRaw);

/**
 * Below this size (de)compression runs on the calling thread: a trip through libuv's thread pool
 * costs more than deflating a few tens of KB at level 1 (measured: bench/compression.ts). Larger
 * values go to the pool so that the event loop is not held up by a multi-MB artifact.
 */
const SYNC_ZLIB_MAX_BYTES = 256 * 1024;

/** The decoded header of a stored payload. */
export interface EnvelopeHeader {
  version: number;
  codec: number;
  compression: number;
  encryption: number;
}

/**
 * The default of `maxValueBytes` on write and read: 128 MiB (134217728 bytes), as
 * `CACHE_MAX_VALUE_BYTES` (from the settings table).
 */
export const DEFAULT_MAX_VALUE_BYTES = settingDefault<number>('maxValueBytes');
const DEFAULT_COMPRESSION_THRESHOLD = settingDefault<number>('compressionThreshold');

/** Settings of {@link encodeValue}. */
export interface EncodeOptions {
  /** Compress when the encoded value reaches this many bytes. @default 16384 */
  compressionThreshold?: number;
  /**
   * Refuse values whose serialized envelope (6-byte header and uncompressed body) is larger than
   * this many bytes, with E_PAYLOAD_TOO_LARGE, before compressing. Measured before compression so
   * that a reader with the same limit, which inflates no further than it, can always read back
   * what was written. What is stored is never larger (compression is kept only when it makes the
   * value smaller), except for the 30 to 61 bytes that encryption adds (key id, IV and tag).
   * @default 134217728 (128 MiB)
   */
  maxValueBytes?: number;
  /** false: never compress this value (it is compressed already, e.g. a zstd Arrow chunk). @default true */
  compress?: boolean;
}

/** Settings of {@link decodeValue}. */
export interface DecodeOptions {
  /**
   * The largest serialized envelope to read, in bytes (6-byte header and uncompressed body): a
   * compressed body is inflated up to this size and no further, and a value larger than this is
   * refused with E_PAYLOAD_CORRUPT. A few KB of deflated zeros can inflate to gigabytes, so this
   * is what bounds the memory that one stored value can take from a reader. Give the writer's
   * `maxValueBytes` (or more): a cache passes its own.
   * @default 134217728 (128 MiB)
   */
  maxValueBytes?: number;
}

// The default argument of the hot path: no object per call.
const NO_OPTIONS: DecodeOptions = Object.freeze({});

const serializer = new SuperJSON();

const TYPED_ARRAYS = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;
type TypedArray = InstanceType<(typeof TYPED_ARRAYS)[number]>;

// superjson does not know typed arrays; they travel as base64 of their bytes, which keeps NaN,
// -0 and every bit of a Float64Array weight vector exact.
serializer.registerCustom<Buffer, string>(
  {
    isApplicable: (v): v is Buffer => Buffer.isBuffer(v),
    serialize: (v) => v.toString('base64'),
    deserialize: (v) => Buffer.from(v, 'base64'),
  },
  'Buffer',
);
for (const ArrayType of TYPED_ARRAYS) {
  serializer.registerCustom<TypedArray, string>(
    {
      isApplicable: (v): v is TypedArray => v instanceof ArrayType && !Buffer.isBuffer(v) && v.constructor === ArrayType,
      serialize: (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'),
      deserialize: (v) => {
        const bytes = Buffer.from(v, 'base64');
        if (bytes.byteLength % ArrayType.BYTES_PER_ELEMENT !== 0) {
          throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `${ArrayType.name} payload has ${bytes.byteLength} bytes`);
        }
        // Copy into a fresh, aligned buffer: a Buffer's offset inside the pool may not be aligned.
        const copy = new ArrayBuffer(bytes.byteLength);
        new Uint8Array(copy).set(bytes);
        return new ArrayType(copy);
      },
    },
    ArrayType.name,
  );
}

const registeredClasses = new Set<Function>();

/** A class whose instances may be cached: they come back as instances, with their methods. */
export type RegisterableClass = abstract new (...args: never[]) => object;

/**
 * Allows instances of `cls` in cached values. They are rebuilt without running the
 * constructor: the prototype is set and the own enumerable fields are copied. Instances of
 * classes that were not registered are refused on write (E_INVALID_VALUE), and a payload can
 * never build a class the reader did not register.
 *
 * @param identifier Name stored in the payload. @default cls.name; give one when minification renames classes.
 */
export function registerClass(cls: RegisterableClass, identifier: string = cls.name): void {
  if (!identifier) throw new FinRiskCacheError('E_INVALID_VALUE', 'a registered class needs a name or an identifier');
  serializer.registerClass(cls as unknown as Parameters<SuperJSON['registerClass']>[0], identifier);
  registeredClasses.add(cls);
}

const KNOWN_PROTOTYPES = new Set<object>([
  Date.prototype, Map.prototype, Set.prototype, RegExp.prototype, URL.prototype, Error.prototype,
  ...TYPED_ARRAYS.map((t) => t.prototype as object), Buffer.prototype,
]);

/** Thrown inside the fast walk; the slow walk then finds where the bad value is. */
const UNSTORABLE = Symbol('unstorable');

/**
 * Walks a value and tells whether plain JSON keeps it exactly (`true`) or whether it needs
 * superjson (`false`); throws {@link UNSTORABLE} for what cannot be stored at all. It builds no
 * paths, because string building would cost more than the walk: {@link findUnstorable} does
 * that once something is wrong.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'bigint':
    case 'undefined':
      return false;
    case 'function':
    case 'symbol':
      throw UNSTORABLE;
  }
  if (value === null) return true;
  if (depth > 200) return false; // let superjson handle (and detect) very deep or circular values
  if (Array.isArray(value)) {
    let plain = true;
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) plain = false; // sparse arrays: holes are not JSON
      else if (!isPlainJson(value[i], depth + 1)) plain = false;
    }
    return plain;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) {
    let plain = proto === Object.prototype;
    for (const key in value as Record<string, unknown>) {
      if (key === '__proto__') plain = false;
      if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) plain = false;
    }
    return plain;
  }
  if (KNOWN_PROTOTYPES.has(proto)) {
    if (value instanceof Map) {
      for (const [k, v] of value) {
        isPlainJson(k, depth + 1);
        isPlainJson(v, depth + 1);
      }
    } else if (value instanceof Set) {
      for (const v of value) isPlainJson(v, depth + 1);
    }
    return false;
  }
  const ctor = (value as { constructor?: Function }).constructor;
  if (ctor && registeredClasses.has(ctor)) {
    for (const key of Object.keys(value as object)) isPlainJson((value as Record<string, unknown>)[key], depth + 1);
    return false;
  }
  throw UNSTORABLE;
}

/** The slow walk: the error for the first value that cannot be stored, naming where it is. */
function findUnstorable(value: unknown, path: string, depth: number, seen: Set<object>): FinRiskCacheError | undefined {
  if (typeof value === 'function' || typeof value === 'symbol') {
    return new FinRiskCacheError('E_INVALID_VALUE', `cannot cache a ${typeof value} at ${path}`);
  }
  if (typeof value !== 'object' || value === null || depth > 200 || seen.has(value)) return undefined;
  seen.add(value);
  const proto = Object.getPrototypeOf(value) as object | null;
  const ctor = (value as { constructor?: Function }).constructor;
  const known = Array.isArray(value) || proto === Object.prototype || proto === null || KNOWN_PROTOTYPES.has(proto!) || (ctor && registeredClasses.has(ctor));
  if (!known) {
    const name = ctor?.name || 'anonymous class';
    return new FinRiskCacheError('E_INVALID_VALUE', `cannot cache an instance of ${name} at ${path}: register the class first (registerClass(${name}))`);
  }
  const children: [string, unknown][] =
    value instanceof Map
      ? [...value].flatMap(([k, v]) => [[`${path}<key>`, k], [`${path}.get(${String(k)})`, v]] as [string, unknown][])
      : value instanceof Set
        ? [...value].map((v) => [`${path}<item>`, v] as [string, unknown])
        : Array.isArray(value)
          ? value.map((v, i) => [`${path}[${i}]`, v] as [string, unknown])
          : Object.keys(value).map((k) => [`${path}.${k}`, (value as Record<string, unknown>)[k]] as [string, unknown]);
  for (const [childPath, child] of children) {
    const error = findUnstorable(child, childPath, depth + 1, seen);
    if (error) return error;
  }
  return undefined;
}

function plainJsonOrThrow(value: unknown): boolean {
  try {
    return isPlainJson(value, 0);
  } catch (error) {
    if (error !== UNSTORABLE) throw error;
    throw findUnstorable(value, 'value', 0, new Set()) ?? new FinRiskCacheError('E_INVALID_VALUE', 'value cannot be cached');
  }
}

function withHeader(codec: number, body: string | Uint8Array): Buffer {
  if (typeof body === 'string') {
    const length = Buffer.byteLength(body);
    const out = Buffer.allocUnsafe(HEADER_BYTES + length);
    out[0] = ENVELOPE_MAGIC_0; out[1] = ENVELOPE_MAGIC_1; out[2] = ENVELOPE_VERSION;
    out[3] = codec; out[4] = Compression.none; out[5] = 0;
    out.write(body, HEADER_BYTES, 'utf8');
    return out;
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.byteLength);
  out[0] = ENVELOPE_MAGIC_0; out[1] = ENVELOPE_MAGIC_1; out[2] = ENVELOPE_VERSION;
  out[3] = codec; out[4] = Compression.none; out[5] = 0;
  out.set(body, HEADER_BYTES);
  return out;
}

/** Serializes a value into an uncompressed envelope. Throws E_INVALID_VALUE for what cannot be stored. */
export function serializeValue(value: unknown): Buffer {
  if (value instanceof Uint8Array && (value.constructor === Uint8Array || Buffer.isBuffer(value))) {
    return withHeader(Buffer.isBuffer(value) ? Codec.buffer : Codec.bytes, value);
  }
  if (plainJsonOrThrow(value)) return withHeader(Codec.json, JSON.stringify(value));
  let text: string;
  try {
    text = serializer.stringify(value);
  } catch (error) {
    throw new FinRiskCacheError('E_INVALID_VALUE', `cannot serialize value: ${(error as Error).message}`, { cause: error });
  }
  return withHeader(Codec.superjson, text);
}

/**
 * Encodes a value as an envelope, compressed when it reaches the threshold and compression
 * pays. Throws E_INVALID_VALUE or E_PAYLOAD_TOO_LARGE.
 */
export async function encodeValue(value: unknown, options: EncodeOptions = {}): Promise<Buffer> {
  return encodeValueFast(value, options);
}

/**
 * {@link encodeValue} without a promise unless one is needed: a Buffer for everything encoded
 * on the calling thread, a promise only for a value large enough to be deflated on libuv's pool.
 * The cache's hot path uses this; every promise it avoids is a microtask and garbage per call.
 * Throws (synchronously) E_INVALID_VALUE or E_PAYLOAD_TOO_LARGE.
 * @internal
 */
export function encodeValueFast(value: unknown, options: EncodeOptions = {}): Buffer | Promise<Buffer> {
  const threshold = options.compressionThreshold ?? DEFAULT_COMPRESSION_THRESHOLD;
  const out = serializeValue(value);
  const maxBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  if (out.byteLength > maxBytes) {
    throw new FinRiskCacheError(
      'E_PAYLOAD_TOO_LARGE',
      `value is ${out.byteLength} bytes serialized (before compression); the limit is ${maxBytes} (maxValueBytes / CACHE_MAX_VALUE_BYTES)`,
    );
  }
  if (options.compress !== false && threshold > 0 && out.byteLength >= threshold) {
    const input = out.subarray(HEADER_BYTES);
    if (input.byteLength > SYNC_ZLIB_MAX_BYTES) {
      return deflateRawAsync(input, { level: 1 }).then((body) => compressedOrNot(out, body));
    }
    return compressedOrNot(out, deflateRawSync(input, { level: 1 }));
  }
  return out;
}

/** The compressed envelope when deflate made the body smaller, else the plain one. */
function compressedOrNot(plain: Buffer, body: Buffer): Buffer {
  if (body.byteLength >= plain.byteLength - HEADER_BYTES) return plain;
  const compressed = Buffer.allocUnsafe(HEADER_BYTES + body.byteLength);
  plain.copy(compressed, 0, 0, HEADER_BYTES);
  compressed[4] = Compression.deflate;
  body.copy(compressed, HEADER_BYTES);
  return compressed;
}

/** Reads the header of a payload; null when the bytes are not an envelope of this SDK. */
export function readHeader(payload: Uint8Array): EnvelopeHeader | null {
  if (payload.byteLength < HEADER_BYTES || payload[0] !== ENVELOPE_MAGIC_0 || payload[1] !== ENVELOPE_MAGIC_1) return null;
  return { version: payload[2]!, codec: payload[3]!, compression: payload[4]!, encryption: payload[5]! };
}

/** True for an envelope of this SDK whose body is encrypted (byte 5), without allocating a header. */
export function isEncryptedEnvelope(payload: Uint8Array): boolean {
  return payload.byteLength >= HEADER_BYTES && payload[0] === ENVELOPE_MAGIC_0 && payload[1] === ENVELOPE_MAGIC_1 && payload[5] !== 0;
}

/**
 * Decodes an envelope. Throws E_PAYLOAD_CORRUPT for bytes that are not a valid envelope, for a
 * value larger than `maxValueBytes` (however small it is compressed) and for JSON with a
 * `__proto__` key in any spelling; E_PAYLOAD_UNSUPPORTED for a format, codec or compression this
 * SDK does not read.
 */
export async function decodeValue(payload: Uint8Array, options: DecodeOptions = {}): Promise<unknown> {
  return decodeValueFast(payload, options);
}

/**
 * {@link decodeValue} without a promise unless a large compressed body is inflated on libuv's
 * pool. Throws (synchronously) what decodeValue rejects with.
 * @internal
 */
export function decodeValueFast(payload: Uint8Array, options: DecodeOptions = NO_OPTIONS): unknown {
  if (payload.byteLength < HEADER_BYTES || payload[0] !== ENVELOPE_MAGIC_0 || payload[1] !== ENVELOPE_MAGIC_1) {
    throw new FinRiskCacheError(
      'E_PAYLOAD_CORRUPT',
      `stored value was not written by @finrisk/cache (${payload.byteLength} bytes, no envelope header)`,
    );
  }
  const version = payload[2]!;
  const codec = payload[3]!;
  const compression = payload[4]!;
  const encryption = payload[5]!;
  if (version !== ENVELOPE_VERSION) {
    throw new FinRiskCacheError(
      'E_PAYLOAD_UNSUPPORTED',
      `stored value has envelope format ${version}; this SDK reads format ${ENVELOPE_VERSION}: upgrade @finrisk/cache-core to read it`,
    );
  }
  if (encryption !== 0) {
    throw new FinRiskCacheError('E_PAYLOAD_UNSUPPORTED', `stored value is encrypted (scheme ${encryption}), which this SDK does not read`);
  }
  const maxBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  if (compression === Compression.none && payload.byteLength > maxBytes) throw tooLarge(`is ${payload.byteLength} bytes, more`, maxBytes);
  if (compression === Compression.none && (codec === Codec.json || codec === Codec.superjson)) {
    // Text straight from the payload: no Buffer view per value (a 10,000-value batch decodes here).
    const text = Buffer.isBuffer(payload) ? payload.toString('utf8', HEADER_BYTES) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8', HEADER_BYTES);
    return parseText(codec, text, maxBytes);
  }
  const body = Buffer.from(payload.buffer, payload.byteOffset + HEADER_BYTES, payload.byteLength - HEADER_BYTES);
  if (compression === Compression.none) return decodeBody(codec, body, maxBytes);
  if (compression !== Compression.deflate) {
    throw new FinRiskCacheError('E_PAYLOAD_UNSUPPORTED', `stored value uses compression ${compression}, unknown to this SDK`);
  }
  // zlib stops (and frees what it inflated) once the output passes this: a deflated body of 1 MB
  // can hold 1 GiB of zeros, and memory must stay bounded by the limit, not by the ratio.
  const inflateOptions = { maxOutputLength: Math.max(1, maxBytes - HEADER_BYTES) };
  const corrupt = (error: unknown) =>
    (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE'
      ? tooLarge('inflates to more', maxBytes, error)
      : new FinRiskCacheError('E_PAYLOAD_CORRUPT', `stored value does not decompress: ${(error as Error).message}`, { cause: error });
  if (body.byteLength > SYNC_ZLIB_MAX_BYTES / 4) {
    return inflateRawAsync(body, inflateOptions).then(
      (inflated) => decodeInflated(codec, inflated, maxBytes),
      (error: unknown) => {
        throw corrupt(error);
      },
    );
  }
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(body, inflateOptions);
  } catch (error) {
    throw corrupt(error);
  }
  return decodeInflated(codec, inflated, maxBytes);
}

function decodeInflated(codec: number, body: Buffer, maxBytes: number): unknown {
  // maxOutputLength cannot be 0; a limit under 7 bytes is checked here.
  if (HEADER_BYTES + body.byteLength > maxBytes) throw tooLarge('inflates to more', maxBytes);
  return decodeBody(codec, body, maxBytes);
}

/** The error for a stored value over the reader's limit: a decompression bomb, or written under a larger limit. */
function tooLarge(what: string, maxBytes: number, cause?: unknown): FinRiskCacheError {
  return new FinRiskCacheError(
    'E_PAYLOAD_CORRUPT',
    `stored value ${what} than the limit of ${maxBytes} bytes (maxValueBytes / CACHE_MAX_VALUE_BYTES): ` +
      'a writer with this limit cannot have stored it (a decompression bomb, or a writer with a larger limit)',
    cause === undefined ? {} : { cause },
  );
}

function parseText(codec: number, text: string, maxBytes: number): unknown {
  try {
    // The writer refuses __proto__ keys (superjson does), so a payload holding one, in any
    // spelling, was forged; it must not reach a caller's Object.assign or merge. superjson's own
    // parse is JSON.parse then deserialize, so its JSON gets the same reviver. The reviver runs
    // only when the text could hold the key (see mayHoldProtoKey).
    const json: unknown = mayHoldProtoKey(text) ? withDepthError(() => JSON.parse(text, refuseProtoKey)) : JSON.parse(text);
    if (codec === Codec.json) return json;
    const payload = json as Parameters<SuperJSON['deserialize']>[0];
    const value = serializer.deserialize(payload, { inPlace: true });
    // Shared references: superjson writes every occurrence of a shared object in full and notes
    // which are the same object, so what a writer stored expands to no more nodes than its
    // serialized bytes. A forged note can instead point null placeholders at one object, level
    // upon level: 1.3 KB that a caller's JSON.stringify or schema walk expands to 2^31 nodes.
    if (payload?.meta?.referentialEqualities !== undefined && expandsPast(value, maxBytes)) {
      throw new FinRiskCacheError(
        'E_PAYLOAD_CORRUPT',
        `stored value repeats shared objects past the limit of ${maxBytes} bytes (maxValueBytes): a writer stores each of them in full, within the limit`,
      );
    }
    return value;
  } catch (error) {
    if (FinRiskCacheError.isInstance(error)) throw error;
    const what = error instanceof RefusedJsonError ? 'is refused' : `is not valid ${codec === Codec.json ? 'JSON' : 'superjson'}`;
    throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `stored value ${what}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * True when `root`, walked as a tree (each shared object counted at every place it appears),
 * measures more than `limit`: one per node, plus the length of every string and key and the
 * bytes of every binary value, each of which a writer stores in at least as many bytes. Linear in
 * the objects and references, not in the tree: each object is measured once. A reference back to
 * an object still being walked (a cycle, which superjson stores legitimately) counts one.
 * Iterative: values may nest deeply.
 */
function expandsPast(root: unknown, limit: number): boolean {
  const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !ArrayBuffer.isView(v);
  const leaf = (v: unknown) => 1 + (typeof v === 'string' ? v.length : ArrayBuffer.isView(v) ? v.byteLength : 0);
  const childrenOf = (v: object): unknown[] =>
    v instanceof Map ? [...v].flat() : v instanceof Set ? [...v] : Array.isArray(v) ? v : Object.entries(v).flat();
  if (!isObject(root)) return false;
  const sizes = new Map<object, number>();
  const open = new Set<object>([root]);
  const stack = [{ node: root, children: childrenOf(root), next: 0, size: 1 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.children.length) {
      const child = top.children[top.next++];
      if (!isObject(child)) top.size += leaf(child);
      else if (open.has(child)) top.size += 1;
      else if (sizes.has(child)) top.size += sizes.get(child)!;
      else {
        open.add(child);
        stack.push({ node: child, children: childrenOf(child), next: 0, size: 1 });
      }
      if (top.size > limit) return true;
      continue;
    }
    stack.pop();
    open.delete(top.node);
    sizes.set(top.node, top.size);
    const parent = stack[stack.length - 1];
    if (parent && (parent.size += top.size) > limit) return true;
  }
  return false;
}

function decodeBody(codec: number, body: Buffer, maxBytes: number): unknown {
  switch (codec) {
    case Codec.bytes:
      return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    case Codec.buffer:
      return Buffer.from(body);
    case Codec.json:
    case Codec.superjson:
      return parseText(codec, body.toString('utf8'), maxBytes);
    default:
      throw new FinRiskCacheError('E_PAYLOAD_UNSUPPORTED', `stored value uses codec ${codec}, unknown to this SDK`);
  }
}
