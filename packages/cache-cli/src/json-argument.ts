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
 * Parses a JSON command-line argument into an object. Invalid JSON throws E_BAD_INPUT naming
 * the argument, the position (line, column and offset) and the text around it; a value that is
 * not an object (an array, a number) is refused too, because predictions and features are maps.
 */
export function parseJsonObjectArgument(text: string, what: string): Record<string, unknown> {
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
        `${excerpt.replace(/\s+/g, ' ')} (wrap the whole JSON in single quotes)`,
      { cause: error },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new CliError('E_BAD_INPUT', `${what} must be a JSON object such as '{"key": 1}', got ${got}`);
  }
  return value as Record<string, unknown>;
}
