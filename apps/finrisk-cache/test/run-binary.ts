import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built bin (tsup): what `pnpm finrisk-cache` and the package's `bin` run. */
export const BUILT_BIN = fileURLToPath(new URL('../dist/finrisk-cache.js', import.meta.url));
/** The examples folder: guide-examples.sh and data/*.csv. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../examples', import.meta.url));

/** What a finished process left. */
export interface BinaryResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when it was still running after `timeoutMs` and was killed (code is then null). */
  timedOut?: boolean;
}

/**
 * A fresh working folder with a copy of examples/data and no `.env`, and an environment that
 * holds only what the test passes (plus PATH and a HOME inside the folder), so that nothing of
 * the developer's shell (REDIS_URL, NO_COLOR, a ~/.cache store) leaks in. It also gives the
 * commands a 5 s command deadline (a test may pass its own): with the default 250 ms a command on
 * a loaded machine failed with E_TIMEOUT now and then, and no test here is about the deadline.
 */
export function workspace(label: string): { cwd: string; env: (extra?: Record<string, string>) => Record<string, string> } {
  const cwd = mkdtempSync(join(tmpdir(), `finrisk-${label}-`));
  cpSync(join(EXAMPLES_DIR, 'data'), join(cwd, 'data'), { recursive: true });
  return {
    cwd,
    env: (extra = {}) => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, XDG_CACHE_HOME: join(cwd, '.xdg-cache'), CACHE_COMMAND_TIMEOUT_MS: '5000', ...extra,
    }),
  };
}

/**
 * Runs `command` (default: node and the built bin) with `args`; never rejects on a non-zero exit.
 * With `timeoutMs`, a process still running then is killed (SIGKILL) and reported as `timedOut`.
 */
export function runBinary(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; command?: readonly string[]; timeoutMs?: number },
): Promise<BinaryResult> {
  const [file, ...pre] = options.command ?? [process.execPath, BUILT_BIN];
  return new Promise((resolve, reject) => {
    const child = spawn(file!, [...pre, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ...(timedOut ? { timedOut } : {}) });
    });
  });
}

/** The lines of a stream's text, without the final empty one. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
}
