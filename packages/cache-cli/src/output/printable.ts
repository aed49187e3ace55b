/** Control characters and the bidi controls that reorder a line (U+200E/F, U+202A-E, U+2066-9). */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `text` with control and bidi characters written as `\u001b`-style escapes: a value read from
 * the cache or a file (a cell, a column name) cannot move the cursor, clear the screen or
 * reorder the line it is printed on.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
