/**
 * Freezes a value decoded from JSON, all the way down, so that callers can share it: an L1 hit
 * hands every caller the same object, and a caller's write to it throws (modules are strict)
 * instead of changing what the next caller reads. Only JSON shapes reach here (objects, arrays,
 * strings, numbers, booleans, null): their freeze is complete. Values with Maps, Sets, Dates or
 * typed arrays, whose contents a freeze does not protect, are held as bytes instead.
 *
 * Iterative, with a stack of its own: a stored value nested 100,000 levels deep (JSON.parse reads
 * it without recursing) must not overflow the call stack here.
 */
export function deepFreeze<T>(value: T): T {
  freezeAndMeasure(value);
  return value;
}

/**
 * {@link deepFreeze}, and about how many bytes of JSON text the value is (strings and keys by
 * their length, 8 per number): L1 sizes the entry from it, in the same walk.
 */
export function freezeAndMeasure(value: unknown): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    switch (typeof current) {
      case 'string':
        bytes += current.length + 2;
        continue;
      case 'object':
        break;
      default:
        bytes += 8;
        continue;
    }
    if (current === null || Object.isFrozen(current)) {
      bytes += 4;
      continue;
    }
    Object.freeze(current);
    bytes += 2;
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) stack.push(current[i]);
      bytes += current.length;
    } else {
      for (const key in current) {
        stack.push((current as Record<string, unknown>)[key]);
        bytes += key.length + 4;
      }
    }
  }
  return bytes;
}
