// A PATH without a C or C++ compiler or make, for checks that an install compiles nothing (node-gyp
// needs all three: with them hidden, any native build fails instead of passing unnoticed).
import { accessSync, constants, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Names of compilers and build tools, also versioned or with a target prefix (gcc-12, x86_64-linux-gnu-g++). */
export const COMPILER = /(^|-)(cc|c\+\+|gcc|g\+\+|clang|clang\+\+|cpp|make|gmake)(-\d+(\.\d+)*)?$/;

/**
 * Fills `dir` with a symlink to every executable on `path` (the first of each name, as the shell
 * finds it) except the compilers, and returns `dir` as the whole PATH.
 */
export function pathWithoutCompilers(dir, path = process.env.PATH ?? '') {
  mkdirSync(dir, { recursive: true });
  const seen = new Set();
  for (const folder of path.split(delimiter).filter(Boolean)) {
    let names;
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name) || COMPILER.test(name)) continue;
      const file = join(folder, name);
      try {
        if (!statSync(file).isFile()) continue;
        accessSync(file, constants.X_OK);
      } catch {
        continue;
      }
      seen.add(name);
      symlinkSync(file, join(dir, name));
    }
  }
  return dir;
}
