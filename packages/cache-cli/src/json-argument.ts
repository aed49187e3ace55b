import { CliError } from './errors.js';
import { findJsonErrorPosition } from './json-error-position.js';

/** Line and column (both from 1) of a character offset in `text`. */
export function lineColumnOf(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/** The reason without V8's own position suffix, which the CLI states itself. */
function reasonOf(message: string): string {
  const first = message.charAt(0).toLowerCase() + message.slice(1);
  return first
    .replace(/^(unexpected token '.+?'), .* is not valid JSON$/s, '$1')
    .replace(/,? *(in JSON )?at position \d+.*$/s, '')
    .replace(/ \(line \d+ column \d+\)$/, '')
    .replace(/^unexpected end of JSON input$/, 'unexpected end of input');
}

/**
 * Parses a JSON command-line argument (or the text of `@FILE` / `-`: `fromArgument: false`) into
 * an object. Invalid JSON throws E_BAD_INPUT naming the argument, the position (line, column and
 * offset) and the text around it; a value that is not an object (an array, a number) is refused
 * too, because predictions and features are maps, and so is a number JSON.parse made ±Infinity
 * (`1e400`), named by its path (`$.x`).
 */
export function parseJsonObjectArgument(text: string, what: string, options: { fromArgument?: boolean } = {}): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const found = findJsonErrorPosition(text);
    const position = found < 0 ? text.length : found;
    const { line, column } = lineColumnOf(text, position);
    const excerpt = `${position > 20 ? '...' : ''}${text.slice(Math.max(0, position - 20), position)}>>${text.slice(position, position + 20)}`;
    throw new CliError(
      'E_BAD_INPUT',
      `${what} is not valid JSON: ${reasonOf(message)} at line ${line}, column ${column} (position ${position}): ` +
        `${excerpt.replace(/\s+/g, ' ')}${options.fromArgument === false ? '' : ' (wrap the whole JSON in single quotes)'}`,
      { cause: error },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new CliError('E_BAD_INPUT', `${what} must be a JSON object such as '{"key": 1}', got ${got}`);
  }
  const infinite = firstNonFinite(value);
  if (infinite !== undefined) {
    throw new CliError(
      'E_BAD_INPUT',
      `${what} has a number too large for a 64-bit float at ${infinite} (it would be stored as Infinity and read back as null); ` +
        'write it as a string, or in other units',
    );
  }
  return value as Record<string, unknown>;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `$.a.b[2]["odd key"]`: where a value sits in a JSON document. */
function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** Whether any number under `root` is ±Infinity; builds nothing (the slow walk names the path). */
function hasNonFinite(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const key in value) stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return false;
}

/**
 * The path of the first number JSON.parse turned into ±Infinity (`1e400`), or undefined. JSON
 * itself cannot hold Infinity, so such a number would be stored as Infinity and come back as
 * null. Walked with a stack, not recursion: nesting depth is the caller's.
 */
export function firstNonFinite(root: unknown): string | undefined {
  if (!hasNonFinite(root)) return undefined;
  const stack: [unknown, string][] = [[root, '$']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], pathOf(path, i)]);
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      for (let k = keys.length - 1; k >= 0; k--) stack.push([(value as Record<string, unknown>)[keys[k]!], pathOf(path, keys[k]!)]);
    }
  }
  return undefined;
}
