/**
 * Freezes a value decoded from JSON, all the way down, so that callers can share it: an L1 hit
 * hands every caller the same object, and a caller's write to it throws (modules are strict)
 * instead of changing what the next caller reads. Only JSON shapes reach here (objects, arrays,
 * strings, numbers, booleans, null): their freeze is complete. Values with Maps, Sets, Dates or
 * typed arrays, whose contents a freeze does not protect, are cloned per hit instead.
 *
 * Iterative, with a stack of its own: a stored value nested 100,000 levels deep (JSON.parse reads
 * it without recursing) must not overflow the call stack here.
 */
export function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null || Object.isFrozen(current)) continue;
    Object.freeze(current);
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        const item: unknown = current[i];
        if (typeof item === 'object' && item !== null) stack.push(item);
      }
    } else {
      for (const key in current) {
        const item = (current as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) stack.push(item);
      }
    }
  }
  return value;
}
