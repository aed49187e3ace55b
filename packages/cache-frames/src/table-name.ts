import { validateId } from '@finrisk/cache-core';
import { FrameError } from './errors.js';

// Glob characters and path separators: a name is never a pattern and never a path.
const FORBIDDEN = /[*?[\]/\\]/;

/**
 * Checks a table name. Names are literal: `*`, `?`, `[`, `]`, `/` and `\` are refused
 * (E_INVALID_KEY, reason TABLE_NAME) so that a name can never act as a pattern or a file path;
 * `:` and `%` are allowed and encoded by the key schema.
 */
export function validateTableName(name: unknown): string {
  try {
    validateId(name, 'table name');
  } catch (error) {
    throw new FrameError('TABLE_NAME', (error as Error).message, { cause: error });
  }
  const text = name as string;
  const bad = FORBIDDEN.exec(text);
  if (bad) {
    throw new FrameError(
      'TABLE_NAME',
      `table name ${JSON.stringify(text)} contains ${JSON.stringify(bad[0])} at position ${bad.index}; ` +
        'names are literal and may not contain * ? [ ] / or \\ (use letters, digits, "_", "-", "." or ":")',
    );
  }
  if (text.trim() !== text) throw new FrameError('TABLE_NAME', `table name ${JSON.stringify(text)} starts or ends with white space`);
  return text;
}
