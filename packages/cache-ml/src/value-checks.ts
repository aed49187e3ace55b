import { invalidValue } from './errors.js';

/** True for `{...}` and `Object.create(null)` objects: what Python's json module calls a dict. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'an unknown class'}`;
  return `a ${typeof value}`;
}

/** Predictions and features are objects (`{ risk_score: 0.75, ... }`), like the guide's dicts; throws E_INVALID_VALUE. */
export function assertRecord(value: unknown, what: string): asserts value is object {
  if (!isPlainObject(value)) throw invalidValue(`${what} must be a plain object such as { risk_score: 0.75 }, got ${describe(value)}`);
}

/** A cached value cannot be null or undefined: a read could not tell it from a miss; throws E_INVALID_VALUE. */
export function assertPresent(value: unknown, what: string): void {
  if (value === null || value === undefined) throw invalidValue(`${what} must not be ${String(value)}: a read could not tell it from a miss`);
}

/** Checks a grace period in seconds; throws E_INVALID_VALUE. */
export function checkGrace(grace: number | undefined): number {
  if (grace === undefined || grace === 0) return 0;
  if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) {
    throw invalidValue(`grace must be a number of seconds >= 0, got ${String(grace)}`);
  }
  return grace;
}

