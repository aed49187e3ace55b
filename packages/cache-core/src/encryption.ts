import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HEADER_BYTES, readHeader } from './codec.js';
import { FinRiskCacheError } from './errors.js';

/** Encryption scheme id stored in byte 5 of the envelope. */
export const ENCRYPTION_AES_256_GCM = 1;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_RE = /^[A-Za-z0-9_.-]{1,32}$/;
/**
 * Kinds that hold no customer data, only coordination: lock tokens must compare byte for byte
 * (deleteIfEquals), which a random IV would defeat.
 */
const UNENCRYPTED_KINDS = new Set(['lock', 'generation']);

/** Encryption at rest: the keys by id, the one new values use, and which kinds are encrypted. */
export interface EncryptionOptions {
  /** 32-byte AES-256 keys by key id (Uint8Array, or base64 text). Old keys stay listed to read what they wrote. */
  keys: Record<string, Uint8Array | string>;
  /** Key id that new values are encrypted with. @default the first key listed */
  activeKeyId?: string;
  /** Kinds to encrypt (e.g. `['prediction', 'feature']`), or `'*'` for every kind. @default '*' */
  kinds?: string[] | '*';
}

/**
 * AES-256-GCM over the envelope body. An encrypted payload is the 6-byte header (byte 5 = 1),
 * the key id (1 length byte, then its bytes), a 12-byte random IV, the ciphertext and the
 * 16-byte tag. The header, the key id and the Redis key are authenticated data, so a payload
 * cannot be altered, re-labelled, or moved under another customer's key without being detected.
 */
export class Keyring {
  readonly activeKeyId: string;
  readonly #keys = new Map<string, Buffer>();
  readonly #kinds: Set<string> | '*';

  constructor(options: EncryptionOptions) {
    const entries = Object.entries(options.keys);
    if (entries.length === 0) throw new FinRiskCacheError('E_INVALID_CONFIG', 'CACHE_ENCRYPTION_KEYS lists no key');
    for (const [id, raw] of entries) {
      if (!KEY_ID_RE.test(id)) {
        throw new FinRiskCacheError('E_INVALID_CONFIG', `CACHE_ENCRYPTION_KEYS: key id ${JSON.stringify(id)} must be 1-32 letters, digits, '_', '.' or '-'`);
      }
      const key = typeof raw === 'string' ? Buffer.from(raw, 'base64') : Buffer.from(raw);
      if (key.byteLength !== 32) {
        // The message names the key id, never the key.
        throw new FinRiskCacheError('E_INVALID_CONFIG', `CACHE_ENCRYPTION_KEYS: key ${id} is ${key.byteLength} bytes; AES-256 needs 32 (base64 of 32 random bytes)`);
      }
      this.#keys.set(id, key);
    }
    this.activeKeyId = options.activeKeyId ?? entries[0]![0];
    if (!this.#keys.has(this.activeKeyId)) {
      throw new FinRiskCacheError('E_INVALID_CONFIG', `CACHE_ENCRYPTION_KEY_ID=${this.activeKeyId} is not one of the keys in CACHE_ENCRYPTION_KEYS`);
    }
    this.#kinds = options.kinds === undefined || options.kinds === '*' ? '*' : new Set(options.kinds);
  }

  /** The ids of the keys held (not secret: `finrisk-cache config` shows them). */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** The kinds whose values are encrypted, or `*` for every kind. */
  get kinds(): string[] | '*' {
    return this.#kinds === '*' ? '*' : [...this.#kinds];
  }

  /** True when values of this kind are encrypted. Coordination kinds (locks, generation tokens) never are. */
  covers(kind: string): boolean {
    if (UNENCRYPTED_KINDS.has(kind)) return false;
    return this.#kinds === '*' || this.#kinds.has(kind);
  }

  /** Encrypts an unencrypted envelope, binding it to `storeKey`. */
  encrypt(envelope: Uint8Array, storeKey: string): Buffer {
    const keyId = Buffer.from(this.activeKeyId, 'utf8');
    const header = Buffer.from(envelope.subarray(0, HEADER_BYTES));
    header[5] = ENCRYPTION_AES_256_GCM;
    const prefix = Buffer.concat([header, Buffer.from([keyId.byteLength]), keyId]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.activeKeyId)!, iv);
    cipher.setAAD(Buffer.concat([prefix, Buffer.from(storeKey, 'utf8')]));
    const body = Buffer.concat([cipher.update(envelope.subarray(HEADER_BYTES)), cipher.final()]);
    return Buffer.concat([prefix, iv, body, cipher.getAuthTag()]);
  }

  /**
   * Decrypts an encrypted envelope read from `storeKey` back into an unencrypted one. Throws
   * E_PAYLOAD_CORRUPT when it was tampered with or moved, E_PAYLOAD_UNSUPPORTED for an unknown
   * key id or scheme.
   */
  decrypt(payload: Uint8Array, storeKey: string): Buffer {
    const header = readHeader(payload);
    if (!header) throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `stored value at ${storeKey} has no envelope header`);
    if (header.encryption !== ENCRYPTION_AES_256_GCM) {
      throw new FinRiskCacheError('E_PAYLOAD_UNSUPPORTED', `stored value at ${storeKey} uses encryption scheme ${header.encryption}, unknown to this SDK`);
    }
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const idLength = bytes[HEADER_BYTES] ?? 0;
    const idEnd = HEADER_BYTES + 1 + idLength;
    if (bytes.byteLength < idEnd + IV_BYTES + TAG_BYTES) {
      throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `encrypted value at ${storeKey} is truncated`);
    }
    const keyId = bytes.subarray(HEADER_BYTES + 1, idEnd).toString('utf8');
    const key = this.#keys.get(keyId);
    if (!key) {
      throw new FinRiskCacheError('E_PAYLOAD_UNSUPPORTED', `encrypted value at ${storeKey} uses key id ${JSON.stringify(keyId)}, which is not in CACHE_ENCRYPTION_KEYS`);
    }
    const iv = bytes.subarray(idEnd, idEnd + IV_BYTES);
    const tag = bytes.subarray(bytes.byteLength - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.concat([bytes.subarray(0, idEnd), Buffer.from(storeKey, 'utf8')]));
    decipher.setAuthTag(tag);
    let body: Buffer;
    try {
      body = Buffer.concat([decipher.update(bytes.subarray(idEnd + IV_BYTES, bytes.byteLength - TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `encrypted value at ${storeKey} failed authentication (tampered with, or written under another key)`, { cause: error });
    }
    const header0 = Buffer.from(bytes.subarray(0, HEADER_BYTES));
    header0[5] = 0;
    return Buffer.concat([header0, body]);
  }
}

/** Parses `CACHE_ENCRYPTION_KEYS` (`id:base64,id:base64`) into a key record; throws naming the variable, never a key. */
export function parseEncryptionKeys(raw: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = item.indexOf(':');
    if (at <= 0) throw new FinRiskCacheError('E_INVALID_CONFIG', 'CACHE_ENCRYPTION_KEYS must be a comma-separated list of keyId:base64Key');
    keys[item.slice(0, at)] = item.slice(at + 1);
  }
  return keys;
}
