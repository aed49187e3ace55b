/**
 * The guard against `__proto__` keys in stored JSON, shared by the envelope codecs (JSON and
 * superjson) and the Python layout's plain JSON. `JSON.parse` makes such a key an own property;
 * a caller's `Object.assign({}, value)` or merge then sets the target's prototype from it, so a
 * value that names `{"__proto__": {"isAdmin": true}}` hands every merged object `isAdmin`. This
 * SDK never writes the key (the writer refuses it), so a payload that holds one was forged.
 */

/**
 * The quoted word `"__proto__"`, or a JSON escape of one of its characters (`_` 5F, `p` 70,
 * `r` 72, `o` 6F, `t` 74, hex digits in either case). JSON may spell any character as `\uXXXX`,
 * and the key is only `__proto__` once parsed: `"\u005f_proto__"` is the same key.
 */
const MAY_HOLD_PROTO_KEY = /"__proto__"|\\u00(?:5[fF]|6[fF]|7[024])/;

/**
 * True when `text` could hold a `__proto__` key, however it is spelled; false means it cannot,
 * and JSON.parse needs no reviver. One native regex scan that builds nothing (measured: 3-7% of
 * JSON.parse's time on the same text, at most the cost of two `includes`), which keeps the hot
 * path's parse at its plain speed. Neither JSON.stringify nor Python's json.dumps escapes those
 * ASCII letters, so values written by either rarely take the slow path.
 */
export function mayHoldProtoKey(text: string): boolean {
  return MAY_HOLD_PROTO_KEY.test(text);
}

/**
 * Thrown when stored JSON is refused though it is valid JSON: a `__proto__` key, or nesting
 * deeper than the reviver can walk. A SyntaxError, as JSON.parse throws for text it refuses.
 */
export class RefusedJsonError extends SyntaxError {
  override name = 'RefusedJsonError';
}

/**
 * A `JSON.parse` reviver that throws {@link RefusedJsonError} on a `__proto__` key. The reviver
 * sees keys after JSON's escapes are decoded, so every spelling is caught.
 */
export function refuseProtoKey(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new RefusedJsonError('a __proto__ key is not allowed in a stored value (it could replace a prototype in a merge)');
  return value;
}

/**
 * `JSON.parse(text)`, refusing `__proto__` keys in any spelling: the reviver runs only when
 * {@link mayHoldProtoKey} says it must. A value nested deeper than the reviver's recursion can go
 * is refused too ({@link RefusedJsonError}, never a RangeError from deep inside).
 */
export function parseJsonWithoutProtoKeys(text: string): unknown {
  if (!mayHoldProtoKey(text)) return JSON.parse(text);
  return withDepthError(() => JSON.parse(text, refuseProtoKey));
}

/**
 * Runs a parse whose reviver recurses (V8's reviver walk does, JSON.parse itself does not); a
 * stack overflow becomes a {@link RefusedJsonError} that says why.
 */
export function withDepthError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new RefusedJsonError('the value nests too deeply to be read', { cause: error });
    }
    throw error;
  }
}
