/**
 * The guide's examples (examples/guide-examples.sh), one command line each, and a way to run
 * one exactly as written: through `sh -c`, with a `finrisk-cache` on the PATH that runs the
 * given entry (the built bin, the bundle or the single executable). Used by `pnpm demo` and the
 * guide test.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const examplesDir = join(appDir, 'examples');
export const builtBin = join(appDir, 'dist', 'finrisk-cache.js');

/** The command lines of examples/guide-examples.sh, without comments and blank lines. */
export function readGuideExamples() {
  return readFileSync(join(examplesDir, 'guide-examples.sh'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/**
 * A temporary folder with a copy of examples/ (data/*.csv) and a bin/ folder holding a
 * `finrisk-cache` that runs `command` (e.g. [process.execPath, builtBin]).
 */
export function prepareWorkspace(command = [process.execPath, builtBin]) {
  const root = mkdtempSync(join(tmpdir(), 'finrisk-guide-'));
  const cwd = join(root, 'work');
  cpSync(examplesDir, cwd, { recursive: true });
  const bin = join(root, 'bin');
  mkdirSync(bin);
  const quoted = command.map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
  writeFileSync(join(bin, 'finrisk-cache'), `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(join(bin, 'finrisk-cache'), 0o755);
  return { root, cwd, bin };
}

/** Runs one command line with `sh -c` in `cwd`, `bin` first on the PATH; resolves with its status and output. */
export function runLine(line, { cwd, bin, env = process.env, inherit = false }) {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', line], {
      cwd,
      env: { ...env, PATH: `${bin}${delimiter}${env.PATH ?? ''}` },
      stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
