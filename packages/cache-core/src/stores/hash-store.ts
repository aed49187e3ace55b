import { FinRiskCacheError } from '../errors.js';

/** One field of a {@link HashStore.hashWrite}. */
export interface HashFieldWrite {
  /** The field's name; must not start with U+0000 (reserved for the store's own bookkeeping). */
  field: string;
  /** The field's bytes, copied: the caller may reuse the buffer. */
  value: Uint8Array;
  /**
   * Time to live of this field alone, in ms: after it the field reads as missing while the other
   * fields stay. undefined: the field lives as long as the key.
   */
  ttlMs?: number | undefined;
}

/** Options of {@link HashStore.hashWrite}. */
export interface HashWriteOptions {
  /**
   * Time to live of the whole key, in ms. With `replace` it is the key's TTL exactly; without,
   * the key's TTL is only ever lengthened to it (a short-lived streaming update never shortens
   * the life of the fields written with it), and a key without expiry keeps none.
   * undefined: a new key never expires, an existing key keeps its TTL.
   */
  ttlMs?: number | undefined;
  /** Drop every field the key held before writing (a whole-vector write); a plain value under the key is dropped too. @default false */
  replace?: boolean;
  /**
   * Converts a key that holds a plain value (a format older than the hash) in the same atomic
   * step: when the key holds exactly `expect`, it becomes a hash of `fields` (keeping its TTL)
   * before the write. Without it, or when the plain value is another, the write changes nothing
   * and answers false.
   */
  convert?: { expect: Uint8Array; fields: readonly HashFieldWrite[] } | undefined;
}

/** What {@link HashStore.hashRead} answers per key: the fields, or the bytes of a plain value the key holds instead. */
export type HashReadResult = Map<string, Uint8Array> | Uint8Array;

/**
 * Hashes: one key holding named fields, read in part (HMGET) or whole (HGETALL) and updated in
 * part, atomically, so that writers of different fields never lose each other's writes. Every
 * store has it; the cache above finds it by {@link isHashStore}, a capability, not a class.
 *
 * Field expiry is part of the contract on every store: a field written with `ttlMs` reads as
 * missing once it passed. Redis 7.4 and later (and any server with HPEXPIRE) expire the field
 * themselves; on older servers (7.0, Valkey 8) the store keeps each field's deadline in a
 * reserved field of the same hash, drops the fields past theirs from what a read returns, and
 * deletes them on the next write of the key. The embedded stores keep the deadlines beside the
 * values. Deadlines are the writer's clock; reads compare them with the reader's.
 */
export interface HashStore {
  /** True when the server expires single fields itself (HPEXPIRE); false where the store keeps the deadlines. Asked once per connection. */
  hasFieldExpiry(): Promise<boolean>;
  /**
   * Writes fields of one key in one atomic step: concurrent writers of other fields keep theirs.
   * True when written; false when the key holds a plain value and `convert` did not match it
   * (read it, and write again with `convert`).
   */
  hashWrite(key: string, fields: readonly HashFieldWrite[], options?: HashWriteOptions): Promise<boolean>;
  /**
   * Reads fields of each key, in one round trip: only `fields` when given (HMGET), else all of
   * them (HGETALL). A Map per key, in the order of `keys`, of the fields present and live; an
   * empty Map for a missing key; the bytes of the value for a key that holds a plain value (on
   * Redis read by a GET after the hash read failed: an old entry costs a second round trip).
   */
  hashRead(keys: readonly string[], fields?: readonly string[]): Promise<HashReadResult[]>;
  /** Deletes fields of a key; returns how many existed. */
  hashDelete(key: string, fields: readonly string[]): Promise<number>;
  /**
   * Merges the JSON object `patch` (UTF-8) into the JSON object stored as a plain string under
   * `key`, atomically, on the server: the fields of `patch` replace the stored ones, the others
   * stay. The key is created when missing. TTL as in {@link HashWriteOptions.ttlMs} (only ever
   * lengthened). Throws E_PAYLOAD_CORRUPT when the stored value is not a JSON object.
   */
  jsonMerge(key: string, patch: Uint8Array, options?: { ttlMs?: number | undefined }): Promise<void>;
}

/** True when `store` has the hash operations. */
export function isHashStore(store: unknown): store is HashStore {
  return typeof store === 'object' && store !== null && typeof (store as Partial<HashStore>).hashWrite === 'function';
}

/** The first character of the store's own fields (deadlines); a caller's field cannot start with it. */
export const RESERVED_FIELD_PREFIX = '\u0000';

/** Throws E_INVALID_KEY for a field name the store reserves, or an empty one. */
export function checkFieldNames(fields: readonly string[]): void {
  for (const field of fields) {
    if (typeof field !== 'string' || field.length === 0 || field.startsWith(RESERVED_FIELD_PREFIX)) {
      throw new FinRiskCacheError('E_INVALID_KEY', `hash field ${JSON.stringify(field)} is not allowed: field names are non-empty and do not start with U+0000`);
    }
  }
}

/** One field as the embedded stores keep it: the value and its deadline (epoch ms, Infinity for none). */
export interface HeldField {
  value: Uint8Array;
  expiresAt: number;
}

/**
 * The embedded stores keep a hash as one value of their own table (so that delete, scan, TTL and
 * prefix deletes treat it like any key): a magic, then per field its name, value and deadline.
 * Read back with bounds checks: a file another version wrote must fail as a corrupt payload,
 * never as an out-of-range read.
 */
const MAGIC = Buffer.from('FRH1');

/** Serializes fields for an embedded store. */
export function packHash(fields: ReadonlyMap<string, HeldField>): Uint8Array {
  const parts: Buffer[] = [MAGIC];
  for (const [field, held] of fields) {
    const name = Buffer.from(field, 'utf8');
    const head = Buffer.alloc(16);
    head.writeUInt32LE(name.byteLength, 0);
    head.writeUInt32LE(held.value.byteLength, 4);
    head.writeDoubleLE(held.expiresAt, 8);
    parts.push(head, name, Buffer.from(held.value.buffer, held.value.byteOffset, held.value.byteLength));
  }
  return Buffer.concat(parts);
}

/** Reads what {@link packHash} wrote; null when the bytes are not a packed hash (a plain value under the key). */
export function unpackHash(bytes: Uint8Array): Map<string, HeldField> | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.byteLength < MAGIC.byteLength || !buf.subarray(0, MAGIC.byteLength).equals(MAGIC)) return null;
  const out = new Map<string, HeldField>();
  let at = MAGIC.byteLength;
  while (at < buf.byteLength) {
    if (at + 16 > buf.byteLength) return null;
    const nameLength = buf.readUInt32LE(at);
    const valueLength = buf.readUInt32LE(at + 4);
    const expiresAt = buf.readDoubleLE(at + 8);
    at += 16;
    if (at + nameLength + valueLength > buf.byteLength) return null;
    const field = buf.toString('utf8', at, at + nameLength);
    at += nameLength;
    // A copy: the caller may keep it, and the buffer read from the file is reused.
    out.set(field, { value: new Uint8Array(buf.subarray(at, at + valueLength)), expiresAt });
    at += valueLength;
  }
  return out;
}

/** Thrown when a hash operation meets a key holding a plain value, or a plain read meets a hash. */
export function wrongType(key: string): FinRiskCacheError {
  return new FinRiskCacheError('E_PAYLOAD_CORRUPT', `the key ${key} holds a value of another type (a hash where a plain value was expected, or the reverse)`);
}

/**
 * The fields an embedded store starts a write from: those held (null: no key), or for a plain
 * value the fields `convert` gives it when it matches (undefined: it does not, nothing is written).
 */
export function startingFields(held: Map<string, HeldField> | null, plain: Uint8Array | null, options: HashWriteOptions, now: number): Map<string, HeldField> | null | undefined {
  if (plain === null || options.replace) return held;
  const convert = options.convert;
  if (!convert || Buffer.compare(Buffer.from(plain), Buffer.from(convert.expect)) !== 0) return undefined;
  return applyHashWrite(null, null, convert.fields, {}, now).fields;
}

/**
 * What an embedded store does for {@link HashStore.hashWrite}, given the fields held now (null:
 * no key): the fields after the write, and the key's new deadline (epoch ms, Infinity: none).
 */
export function applyHashWrite(
  held: Map<string, HeldField> | null | undefined,
  keyExpiresAt: number | null,
  fields: readonly HashFieldWrite[],
  options: HashWriteOptions,
  now: number,
): { fields: Map<string, HeldField>; expiresAt: number } {
  const next = options.replace || !held ? new Map<string, HeldField>() : held;
  for (const [field, h] of next) if (h.expiresAt <= now) next.delete(field);
  for (const f of fields) next.set(f.field, { value: new Uint8Array(f.value), expiresAt: f.ttlMs === undefined ? Infinity : now + f.ttlMs });
  const wanted = options.ttlMs === undefined ? undefined : now + options.ttlMs;
  let expiresAt: number;
  if (options.replace || !held || keyExpiresAt === null) expiresAt = wanted ?? Infinity;
  else expiresAt = wanted === undefined ? keyExpiresAt : keyExpiresAt === Infinity ? Infinity : Math.max(keyExpiresAt, wanted);
  return { fields: next, expiresAt };
}

/** The live fields of a held hash, the wanted ones only when `fields` is given. */
export function readHeldFields(held: Map<string, HeldField> | null, fields: readonly string[] | undefined, now: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (held === null) return out;
  const names = fields ?? [...held.keys()];
  for (const field of names) {
    const h = held.get(field);
    if (h && h.expiresAt > now) out.set(field, new Uint8Array(h.value));
  }
  return out;
}

/**
 * The JSON merge of the embedded stores: `patch`'s fields over `current`'s (both UTF-8 JSON
 * objects; null current: none). Throws E_PAYLOAD_CORRUPT when either is not a JSON object.
 */
export function mergeJsonObjects(key: string, current: Uint8Array | null, patch: Uint8Array, parse: (text: string) => unknown, dumps: (value: unknown) => string): Uint8Array {
  const asObject = (bytes: Uint8Array, what: string): Record<string, unknown> => {
    let value: unknown;
    try {
      value = parse(Buffer.from(bytes).toString('utf8'));
    } catch (error) {
      throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `${what} at ${key} is not JSON: ${(error as Error).message}`, { cause: error });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `${what} at ${key} is not a JSON object`);
    return value as Record<string, unknown>;
  };
  const merged = Object.assign(Object.create(null) as Record<string, unknown>, current === null ? {} : asObject(current, 'the stored value'), asObject(patch, 'the patch'));
  return Buffer.from(dumps({ ...merged }), 'utf8');
}
