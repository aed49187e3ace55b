import type { CacheErrorEvent } from './cache-types.js';
import { Codec, Compression, decodeValueFast, encodeValueFast, isEncryptedEnvelope, readHeader, serializeValue } from './codec.js';
import type { CacheConfig } from './config.js';
import { FinRiskCacheError, toCacheError } from './errors.js';
import type { CacheKey } from './keys.js';
import type { KindStatsRegistry } from './kind-stats.js';
import { deepFreeze } from './l1/deep-freeze.js';
import { jsonValueBytes, valueBytes } from './l1/value-size.js';
import { parsePythonJson, pythonJsonDumps } from './python-json.js';

/**
 * What L1 may hold of a value: the frozen value itself; a private copy that every hit clones
 * (typed arrays, Maps, Dates: structuredClone copies a 2 x 16 KB Float64Array model in ~40 µs
 * where decoding its envelope takes ~300 µs); or bytes decoded per hit (values a clone would not
 * keep as they are: Buffers, instances of registered classes). `size` is what the value costs
 * decoded (l1/value-size.ts: typed arrays and Buffers by byteLength, objects by an estimate of
 * their heap), never its stored size: four 30.5 MB Float64Arrays deflated to 0.75 MB in all.
 */
export type Hold = { value: unknown; size: number } | { pristine: unknown; size: number } | { bytes: Uint8Array; size: number };

/**
 * Values on their way to and from the store: encode (the envelope, or plain JSON for keys shared
 * with the Python service), compress, encrypt; and back. A stored value that does not decode is
 * a miss and an `error` event, never an exception into the caller. Reads are counted here, as
 * hits or misses of their key's kind.
 */
export class ValuePipeline {
  readonly #config: CacheConfig;
  readonly #stats: KindStatsRegistry;
  readonly #report: (event: CacheErrorEvent) => void;

  constructor(config: CacheConfig, stats: KindStatsRegistry, report: (event: CacheErrorEvent) => void) {
    this.#config = config;
    this.#stats = stats;
    this.#report = report;
  }

  /**
   * Encodes a value for `ref`; a promise only when a large value is deflated off the thread.
   * Throws E_INVALID_VALUE or E_PAYLOAD_TOO_LARGE.
   */
  encode(ref: CacheKey, value: unknown, compress?: boolean): Uint8Array | Promise<Uint8Array> {
    if (ref.format === 'json') {
      const bytes = Buffer.from(pythonJsonDumps(value), 'utf8');
      if (bytes.byteLength > this.#config.maxValueBytes) {
        throw new FinRiskCacheError('E_PAYLOAD_TOO_LARGE', `value is ${bytes.byteLength} bytes; the limit is ${this.#config.maxValueBytes}`);
      }
      return bytes;
    }
    const envelope = encodeValueFast(value, compress === false ? { ...this.#config, compress } : this.#config);
    return envelope instanceof Promise ? envelope.then((e) => this.#seal(ref, e)) : this.#seal(ref, envelope);
  }

  /**
   * Decodes a stored payload (null: a miss); a payload that does not decode is a miss and an
   * error event. A promise only when a large compressed value is inflated off the thread: the
   * hot path of get and getMany allocates no promise per value.
   */
  decode<T>(ref: CacheKey, payload: Uint8Array | null, operation: string, unsealed = false): T | null | Promise<T | null> {
    if (payload === null) {
      this.#stats.read(ref, false);
      return null;
    }
    try {
      if (ref.format === 'json') {
        const value = parsePythonJson(Buffer.from(payload).toString('utf8')) as T;
        this.#stats.read(ref, true);
        return value;
      }
      const value = decodeValueFast(unsealed ? payload : this.#unseal(ref, payload), this.#config);
      if (value instanceof Promise) {
        return value.then(
          (v) => {
            this.#stats.read(ref, true);
            return v as T;
          },
          (error: unknown) => this.#undecodable(ref, error, operation),
        );
      }
      this.#stats.read(ref, true);
      return value as T;
    } catch (error) {
      return this.#undecodable(ref, error, operation);
    }
  }

  /**
   * {@link ValuePipeline.decode} for a read that may fill L1: also says what L1 may hold, when
   * the value costs no more than `maxBytes` decoded (measured first: a value over it is neither
   * frozen nor copied, and the caller gets it as a read without L1 would). A value of JSON shape
   * is frozen and shared (the caller gets the frozen value too, so what a caller and L1 hold is
   * one object nobody can change); a value structuredClone keeps exactly (Maps, Dates, typed
   * arrays) is copied once and cloned per hit; anything else (Buffers, registered classes) is
   * held as an uncompressed envelope and decoded afresh on every hit.
   */
  decodeToHold<T>(ref: CacheKey, payload: Uint8Array | null, operation: string, maxBytes: number): Promise<{ value: T | null; hold: Hold | undefined }> | { value: T | null; hold: Hold | undefined } {
    if (payload === null) {
      this.#stats.read(ref, false);
      return { value: null, hold: undefined };
    }
    let plain: Uint8Array;
    try {
      if (ref.format === 'json') {
        const value = parsePythonJson(Buffer.from(payload).toString('utf8')) as T;
        this.#stats.read(ref, true);
        return { value, hold: holdShared(value, maxBytes) };
      }
      plain = this.#unseal(ref, payload);
    } catch (error) {
      return { value: this.#undecodable(ref, error, operation), hold: undefined };
    }
    const decoded = this.decode<T>(ref, plain === payload ? payload : plain, operation, true);
    const finish = (value: T | null): { value: T | null; hold: Hold | undefined } => {
      if (value === null) return { value, hold: undefined };
      const header = readHeader(plain);
      try {
        if (header?.codec === Codec.json) return { value, hold: holdShared(value, maxBytes) };
        const size = valueBytes(value, maxBytes);
        if (size > maxBytes) return { value, hold: undefined };
        if (isCloneExact(value)) return { value, hold: { pristine: structuredClone(value), size } };
        // Held uncompressed, so that a hit decodes on the calling thread without a promise.
        const bytes = header?.compression === Compression.none ? plain : serializeValue(value);
        return { value, hold: bytes.byteLength > maxBytes ? undefined : { bytes, size: Math.max(size, bytes.byteLength) } };
      } catch {
        // A value L1 cannot prepare (one too deep to serialize again) is read from Redis every time.
        return { value, hold: undefined };
      }
    };
    return decoded instanceof Promise ? decoded.then(finish) : finish(decoded);
  }

  /** Decodes bytes L1 holds (an uncompressed, unencrypted envelope): a fresh value per hit. */
  decodeHeld(bytes: Uint8Array): unknown {
    return decodeValueFast(bytes);
  }

  #seal(ref: CacheKey, envelope: Buffer): Uint8Array {
    const keyring = this.#config.keyring;
    return keyring?.covers(ref.kind) ? keyring.encrypt(envelope, ref.key) : envelope;
  }

  /** Decrypts an encrypted envelope; refuses a plaintext one where encryption is required (a downgrade). */
  #unseal(ref: CacheKey, payload: Uint8Array): Uint8Array {
    const keyring = this.#config.keyring;
    if (isEncryptedEnvelope(payload)) {
      if (!keyring) {
        throw new FinRiskCacheError('E_PAYLOAD_UNSUPPORTED', `stored value at ${ref.key} is encrypted and no CACHE_ENCRYPTION_KEYS are configured`);
      }
      return keyring.decrypt(payload, ref.key);
    }
    if (keyring?.covers(ref.kind)) {
      throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `stored value at ${ref.key} is not encrypted, but ${ref.kind} values must be`);
    }
    return payload;
  }

  #undecodable(ref: CacheKey, error: unknown, operation: string): null {
    const err =
      ref.format === 'json'
        ? new FinRiskCacheError('E_PAYLOAD_CORRUPT', `stored value at ${ref.key} is not JSON: ${(error as Error).message}`, { cause: error })
        : toCacheError(error, 'E_PAYLOAD_CORRUPT', `stored value at ${ref.key} does not decode`);
    this.#stats.read(ref, false);
    this.#stats.of(ref.kind).errors++;
    this.#report({ error: err, operation, kind: ref.kind, key: ref.key });
    return null;
  }
}

/** A decoded JSON value to share: frozen once measured within `maxBytes`, left as it is otherwise. */
function holdShared(value: unknown, maxBytes: number): Hold | undefined {
  const size = jsonValueBytes(value, maxBytes);
  if (size > maxBytes) return undefined;
  deepFreeze(value);
  return { value, size };
}

const CLONE_EXACT = new Set<object | null>([
  Object.prototype, null, Array.prototype, Map.prototype, Set.prototype, Date.prototype, RegExp.prototype,
  Int8Array.prototype, Uint8Array.prototype, Uint8ClampedArray.prototype, Int16Array.prototype, Uint16Array.prototype,
  Int32Array.prototype, Uint32Array.prototype, Float32Array.prototype, Float64Array.prototype, BigInt64Array.prototype, BigUint64Array.prototype,
]);

/**
 * True when structuredClone gives back the same value: only objects of these prototypes (no
 * Buffer, which would come back a Uint8Array, and no registered class, which would lose its
 * prototype). An iterative walk: a value nested deeply must not overflow the stack.
 */
function isCloneExact(value: unknown): boolean {
  const stack: unknown[] = [value];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    if (!CLONE_EXACT.has(Object.getPrototypeOf(current) as object | null)) return false;
    if (ArrayBuffer.isView(current)) continue;
    if (current instanceof Map) for (const [k, v] of current) stack.push(k, v);
    else if (current instanceof Set) for (const v of current) stack.push(v);
    else for (const key of Object.keys(current)) stack.push((current as Record<string, unknown>)[key]);
  }
  return true;
}
