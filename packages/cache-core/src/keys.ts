import { FinRiskCacheError } from './errors.js';

/**
 * Every key the SDK writes is `{prefix}:{kind}:{part}:{part}...`. This module is the only place
 * that builds one, so that caller input can never become a pattern or reach another key.
 */

/** A fully built key: the kind (a namespace and a statistics bucket) and the key in the store. */
export interface CacheKey {
  /** Namespace and statistics bucket, e.g. `prediction`, `feature`, `kv`. */
  readonly kind: string;
  /** The key exactly as stored, e.g. `finrisk:prediction:credit:CUST001`. */
  readonly key: string;
  /**
   * How the value is stored. `envelope` (default): the SDK's versioned binary envelope.
   * `json`: plain UTF-8 JSON with no header, for keys shared with the Python service.
   */
  readonly format?: 'envelope' | 'json';
  /**
   * A bookkeeping key of the SDK (a model's generation token, a read-through lock) rather than
   * the application's data: its reads are not counted as hits or misses.
   */
  readonly internal?: boolean;
  /**
   * false: never held in the in-process L1 tier, whatever its kind (data-frame chunks: L1 keeps
   * the decoded table instead). @default true
   */
  readonly local?: boolean;
}

/**
 * The kinds of key the SDK reads and writes (cache-core, cache-ml, cache-frames): what
 * `CACHE_L1_KINDS` may name. A kind of your own (`cache.keys.key('mine', ...)`) is held with `*`.
 */
export const SDK_KINDS = ['prediction', 'feature', 'model', 'dataframe', 'generation', 'kv', 'session', 'lock'] as const;

/** Longest id accepted as one key part, in UTF-16 code units. */
export const MAX_ID_LENGTH = 512;

const KIND_RE = /^[a-z][a-z0-9-]{0,31}$/;
// C0 and C1 control characters, and DEL. Visible unicode is fine.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/** Checks an id from a caller (customer id, model name, table name, ...); throws E_INVALID_KEY. */
export function validateId(id: unknown, what = 'id'): string {
  if (typeof id !== 'string') {
    throw new FinRiskCacheError('E_INVALID_KEY', `${what} must be a string, got ${id === null ? 'null' : typeof id}`);
  }
  if (id.length === 0) throw new FinRiskCacheError('E_INVALID_KEY', `${what} must not be empty`);
  if (id.length > MAX_ID_LENGTH) {
    throw new FinRiskCacheError('E_INVALID_KEY', `${what} is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`);
  }
  if (isPrintableAscii(id)) return id; // most ids: no regex, no unicode scan
  const control = CONTROL_RE.exec(id);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, '0');
    throw new FinRiskCacheError('E_INVALID_KEY', `${what} contains a control character (U+${code}) at position ${control.index}`);
  }
  if (!id.isWellFormed()) throw new FinRiskCacheError('E_INVALID_KEY', `${what} is not well-formed unicode (lone surrogate)`);
  return id;
}

/** True when every character is printable ASCII (space to `~`): such an id needs no further check. */
function isPrintableAscii(id: string): boolean {
  if (id.length > 64) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** True for a part that is kept as it is: valid (printable ASCII) and without `:` or `%` to encode. */
function isPlainPart(part: unknown): part is string {
  return typeof part === 'string' && part.length > 0 && isPrintableAscii(part) && !part.includes(':') && !part.includes('%');
}

// Kinds already checked (they come from code, so there are few); bounded in case they do not.
const checkedKinds = new Set<string>();

/**
 * Names that mean something to every JavaScript object. Kinds and services become property names
 * where their counters are added up (fleet statistics, a dashboard, a metrics adapter): code that
 * writes `totals[kind] ??= {}` on a plain object would reach `Object` itself through
 * `constructor`, and `Object.prototype` through `__proto__`. The SDK never names a kind or a
 * service so, and refuses records that do.
 */
export function isReservedName(name: string): boolean {
  return name === '__proto__' || name === 'prototype' || name in Object.prototype;
}

/** True for a kind name: lower-case letters, digits and dashes, starting with a letter, at most 32, not a reserved name. */
export function isKindName(kind: unknown): kind is string {
  return typeof kind === 'string' && KIND_RE.test(kind) && !isReservedName(kind);
}

/**
 * Service names: what a package.json `name` holds (`scoring-service`, `@finrisk/scoring`) and
 * a little more (`+`, `:`), at most 128 characters, and no reserved name ({@link isReservedName}).
 */
const SERVICE_NAME_RE = /^[A-Za-z0-9@._~/+:-]{1,128}$/;

/** True for a service name fleet statistics accept (`CACHE_SERVICE_NAME` is checked against it). */
export function isServiceName(name: unknown): name is string {
  return typeof name === 'string' && SERVICE_NAME_RE.test(name) && !isReservedName(name);
}

/** Checks a kind name: lower-case letters, digits and dashes, starting with a letter, and not `constructor` or `prototype`. */
export function validateKind(kind: string): string {
  if (!KIND_RE.test(kind)) {
    throw new FinRiskCacheError('E_INVALID_KEY', `kind ${JSON.stringify(kind)} must match ${KIND_RE.source}`);
  }
  if (isReservedName(kind)) {
    throw new FinRiskCacheError('E_INVALID_KEY', `kind ${JSON.stringify(kind)} is a name every JavaScript object has; choose another`);
  }
  return kind;
}

/**
 * Key spaces of the finrisk-python layout (`prediction:{model}:{customer}`, `features:{customer}`).
 * A prefix equal to one of them would put the SDK's own keys inside them: `prediction:feature:C1`
 * would read as a prediction of model `feature`, and the Python layout's clears would delete it.
 */
const PYTHON_KEY_SPACES = ['prediction', 'features'];

/**
 * Checks a key prefix (`CACHE_KEY_PREFIX`): 1-64 characters, no `:`, no glob characters, no
 * spaces, and not a key space of the finrisk-python layout.
 */
export function validatePrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    throw new FinRiskCacheError(
      'E_INVALID_CONFIG',
      `CACHE_KEY_PREFIX ${JSON.stringify(prefix)} must be 1-64 characters of letters, digits, '_', '.' or '-'`,
    );
  }
  if (PYTHON_KEY_SPACES.includes(prefix)) {
    throw new FinRiskCacheError(
      'E_INVALID_CONFIG',
      `CACHE_KEY_PREFIX ${JSON.stringify(prefix)} collides with the finrisk-python layout's keys (\`${prefix}:...\`): ` +
        "the Python service's clears and `inspect` would take the SDK's own keys for its entries; choose another prefix",
    );
  }
  return prefix;
}

/**
 * Encodes one id as a key part. `:` separates parts and `%` is the escape, so both are
 * percent-encoded; everything else (glob characters, spaces, unicode) is kept as it is, because
 * keys are never used as patterns: SCAN patterns are built with {@link escapeGlob}.
 */
export function encodeKeyPart(id: string, what = 'id'): string {
  validateId(id, what);
  return id.includes('%') || id.includes(':') ? id.replaceAll('%', '%25').replaceAll(':', '%3A') : id;
}

/** Inverse of {@link encodeKeyPart}. */
export function decodeKeyPart(part: string): string {
  return part.includes('%') ? part.replaceAll('%3A', ':').replaceAll('%25', '%') : part;
}

/** Escapes Redis glob characters so that a literal string can be used inside a MATCH pattern. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\^]/g, (c) => `\\${c}`);
}

/** Builds keys under one prefix. */
export class KeySchema {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = validatePrefix(prefix);
  }

  /** `{prefix}:{kind}:{encoded part}:...`; every part is validated and encoded. */
  key(kind: string, ...parts: string[]): CacheKey {
    if (!checkedKinds.has(kind)) {
      validateKind(kind);
      if (checkedKinds.size < 256) checkedKinds.add(kind);
    }
    if (parts.length === 0) throw new FinRiskCacheError('E_INVALID_KEY', `a ${kind} key needs at least one part`);
    // Built by concatenation with a fast path per part: this runs for every key of a 10,000-key batch.
    let key = `${this.prefix}:${kind}`;
    for (const part of parts) key += `:${isPlainPart(part) ? part : encodeKeyPart(part, `${kind} key part`)}`;
    return { kind, key };
  }

  /**
   * The literal start of every key of `kind` whose first parts are `parts`, ending in `:`.
   * With no parts: every key of the kind.
   */
  prefixOf(kind: string, ...parts: string[]): string {
    validateKind(kind);
    const encoded = parts.map((p) => encodeKeyPart(p, `${kind} key part`));
    return `${this.prefix}:${kind}:${encoded.map((p) => `${p}:`).join('')}`;
  }

  /** The parts of a key built by {@link KeySchema.key}, decoded; null when it is not of that kind. */
  parse(kind: string, key: string): string[] | null {
    const start = `${this.prefix}:${kind}:`;
    if (!key.startsWith(start)) return null;
    return key.slice(start.length).split(':').map(decodeKeyPart);
  }
}
