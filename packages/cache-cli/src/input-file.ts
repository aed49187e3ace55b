import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './errors.js';

/**
 * Resolves a file named on the command line against the working directory and checks that it is
 * a readable file; a missing one throws E_FILE_NOT_FOUND naming the path as given and as resolved.
 */
export function existingFile(cwd: string, path: string): { path: string; size: number } {
  const full = resolve(cwd, path);
  let size: number;
  try {
    const stat = statSync(full);
    if (stat.isDirectory()) throw new CliError('E_BAD_INPUT', `${path} is a directory, not a file`);
    size = stat.size;
  } catch (error) {
    if (CliError.isInstance(error)) throw error;
    const code = (error as { code?: string }).code;
    const shown = full === path ? path : `${path} (${full})`;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError('E_FILE_NOT_FOUND', `file not found: ${shown}`, { cause: error });
    throw new CliError('E_BAD_INPUT', `cannot read ${shown}: ${(error as Error).message}`, { cause: error });
  }
  return { path: full, size };
}
