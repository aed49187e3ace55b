/**
 * What a decoded value costs in the heap, estimated by walking it: the size L1 counts against
 * `CACHE_L1_MAX_MB` and the per-entry cap. The stored size says nothing about it: four 30.5 MB
 * Float64Arrays deflate to 0.75 MB, and 15 KB of JSON holding 5,000 empty objects is 320 KB of
 * heap.
 *
 * The constants are V8's layout on 64-bit Node (no pointer compression), rounded up where
 * measured figures varied: each is at least what `l1-memory.integration.test.ts` measures as real heap growth
 * (after a GC, in a child process) for object-dense JSON, predictions, feature vectors, nested
 * arrays, long strings, typed arrays, Maps, Sets and Dates. The estimate never undercounts any of
 * them by more than 1.5x (the test's bound); most it overcounts a little (short strings that V8
 * shares, hidden classes shared with values already in the heap).
 */

/** An object's header (map, properties, elements). */
const OBJECT = 24;
/** One pointer-sized slot: a property, an element, a Map or Set entry's field. */
const SLOT = 8;
/** An array: the JSArray and its backing store's header. */
const ARRAY = 48;
/** A number that is not a small integer is a HeapNumber of its own (V8 boxes doubles in JSON arrays and fields). */
const HEAP_NUMBER = 16;
/** A string's header (map, hash, length), before its characters. */
const STRING = 24;
/**
 * A shape (the list of an object's property names, in order) met for the first time: the hidden
 * classes along its transition chain, their descriptors, a frozen transition and the internalized
 * names. Measured: about 220 bytes for a frozen object of one never-seen key, 250 for three
 * (not frozen); charged as this plus {@link SHAPE_PER_KEY} per name and the names' lengths.
 */
const SHAPE = 150;
const SHAPE_PER_KEY = 64;
/**
 * Shapes already charged, process-wide: V8 shares a hidden class between every object of one
 * shape, so a prediction or feature vector like the thousands already held costs only its own
 * fields (charging the shape each time overcounted a prediction eightfold). Bounded: once full it
 * starts over, which only charges shapes again. What this can miss is a shape whose hidden classes
 * V8 collected after every object of it was dropped, then met again: at most the registry's
 * capacity times the largest fast-mode shape (127 names), about 10 MB over the whole process.
 */
const knownShapes = new Set<string>();
const KNOWN_SHAPES_MAX = 1024;
/** Past this many properties V8 keeps an object in dictionary mode (measured 40 to 66 bytes per property from 128 on, names apart). */
const DICTIONARY_FROM = 128;
const DICTIONARY_PER_KEY = 56;
/** A typed array's or Buffer's view and ArrayBuffer objects, beside its bytes (measured about 190). */
const VIEW = 256;
/** A Date, or another small object of a known class (RegExp, URL, Error), before its strings. */
const SMALL_OBJECT = 160;
/** Per entry of a Map and of a Set (their hash tables; measured about 30 and 20, keys and values apart). */
const MAP_ENTRY = 40;
const SET_ENTRY = 24;

const SMI_MIN = -(2 ** 31);
const SMI_MAX = 2 ** 31 - 1;
const TWO_BYTE = /[^\u0000-\u00ff]/;

/** What a result over the limit reads as: the walk stopped there. */
export const OVER_LIMIT = Number.POSITIVE_INFINITY;

function stringBytes(text: string): number {
  // Long strings are checked for characters beyond Latin-1 (V8 then stores two bytes a character).
  const perChar = text.length > 16 && TWO_BYTE.test(text) ? 2 : 1;
  return (STRING + text.length * perChar + 7) & ~7;
}

function primitiveBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return Number.isInteger(value) && value >= SMI_MIN && value <= SMI_MAX ? 0 : HEAP_NUMBER;
    case 'bigint':
      return HEAP_NUMBER + SLOT * Math.ceil(value.toString(16).length / 16);
    default:
      return 0; // booleans, null, undefined: shared
  }
}

/**
 * The estimated heap bytes of a value decoded from JSON (objects, arrays, strings, numbers,
 * booleans, null: a tree), or {@link OVER_LIMIT} as soon as it passes `limit` (the walk stops
 * there, so a value far over the cap costs little to refuse). Iterative: a value nested
 * 100,000 deep does not overflow the stack.
 */
export function jsonValueBytes(value: unknown, limit: number): number {
  return walk(value, limit, undefined);
}

/**
 * {@link jsonValueBytes} for any value the codec returns: also typed arrays and Buffers (by their
 * byteLength), Maps, Sets, Dates, instances of registered classes; an object reached twice
 * (superjson keeps shared references and cycles) counts once.
 */
export function valueBytes(value: unknown, limit: number): number {
  return walk(value, limit, new Set());
}

function walk(root: unknown, limit: number, seen: Set<object> | undefined): number {
  let total = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null) {
      total += primitiveBytes(current);
      if (total > limit) return OVER_LIMIT;
      continue;
    }
    if (seen) {
      if (seen.has(current)) continue;
      seen.add(current);
    }
    if (Array.isArray(current)) {
      total += ARRAY + SLOT * current.length;
      for (let i = 0; i < current.length; i++) {
        const item: unknown = current[i];
        if (typeof item === 'object' && item !== null) stack.push(item);
        else total += primitiveBytes(item);
      }
    } else if (ArrayBuffer.isView(current)) {
      total += VIEW + current.byteLength;
    } else if (current instanceof Map) {
      total += OBJECT + MAP_ENTRY * current.size;
      for (const [k, v] of current) stack.push(k, v);
    } else if (current instanceof Set) {
      total += OBJECT + SET_ENTRY * current.size;
      for (const v of current) stack.push(v);
    } else if (current instanceof Date || current instanceof RegExp || current instanceof URL || current instanceof Error) {
      total += SMALL_OBJECT + (current instanceof Date ? 0 : stringBytes(String(current)));
    } else {
      let count = 0;
      let shape = '';
      for (const key in current) {
        count++;
        shape += `${key}\u0000`;
        const item = (current as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) stack.push(item);
        else total += primitiveBytes(item);
      }
      if (count >= DICTIONARY_FROM) {
        // Dictionary mode: each object holds its own table of names (the names may be new strings too).
        total += OBJECT + count * DICTIONARY_PER_KEY + shape.length;
      } else {
        // An empty object gets room for four properties (JSON.parse sizes the others to their shape).
        total += OBJECT + SLOT * (count === 0 ? 4 : count);
        if (count > 0 && !knownShapes.has(shape)) {
          total += SHAPE + count * SHAPE_PER_KEY + shape.length;
          // Full: start over (forgetting shapes only ever overcounts them once more).
          if (knownShapes.size >= KNOWN_SHAPES_MAX) knownShapes.clear();
          knownShapes.add(shape);
        }
      }
    }
    if (total > limit) return OVER_LIMIT;
  }
  return total;
}
