/**
 * Freezes a value decoded from JSON, all the way down, so that callers can share it: an L1 hit
 * hands every caller the same object, and a caller's write to it throws (modules are strict)
 * instead of changing what the next caller reads. Only JSON shapes reach here (objects, arrays,
 * strings, numbers, booleans, null): their freeze is complete. Values with Maps, Sets, Dates or
 * typed arrays, whose contents a freeze does not protect, are held as bytes instead.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return Object.freeze(value);
}
