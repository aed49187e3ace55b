import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILT_BIN } from './run-binary.js';

const MAX_RSS = pathToFileURL(fileURLToPath(new URL('./max-rss.mjs', import.meta.url))).href;

/** What a finished child left, with its peak memory when it was measured. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size in MiB (getrusage in the child), when `measure` was asked for. */
  maxRssMiB?: number;
}

/** A running built bin: its process, and a promise of how it ended (killed after `limitMs`, reported as `timedOut`). */
export interface RunningBinary {
  pid: number;
  stdin: NodeJS.WritableStream | null;
  done: Promise<ChildResult & { timedOut: boolean }>;
}

/**
 * Starts the built bin with `args`. `stdio` is passed to spawn as is (defaults: stdin ignored,
 * stdout and stderr collected); `measure` preloads max-rss.mjs. A child still running after
 * `limitMs` is killed with SIGKILL, and `timedOut` says so: a hang fails a test, it never stalls it.
 */
export function startBinary(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; stdio?: StdioOptions; measure?: boolean; limitMs?: number; command?: readonly string[] },
): RunningBinary {
  const rssFile = options.measure ? join(mkdtempSync(join(tmpdir(), 'finrisk-rss-')), 'max-rss') : undefined;
  const [file, ...pre] = options.command ?? [process.execPath, ...(rssFile ? ['--import', MAX_RSS] : []), BUILT_BIN];
  const child = spawn(file!, [...pre, ...args], {
    cwd: options.cwd,
    env: { ...options.env, ...(rssFile ? { FINRISK_MAX_RSS_FILE: rssFile } : {}) },
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<ChildResult & { timedOut: boolean }>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.limitMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const maxRssMiB = rssFile && existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : undefined;
      resolve({ code, signal, stdout, stderr, timedOut, ...(maxRssMiB === undefined ? {} : { maxRssMiB }) });
    });
  });
  return { pid: child.pid!, stdin: child.stdin, done };
}

/**
 * A file descriptor of a real pipe (a FIFO) whose reading end is already closed: a process
 * writing to it gets EPIPE at its first write, whatever the machine's speed. The caller closes it
 * once the child has it.
 */
export function closedPipe(dir: string, name: string): number {
  const fifo = join(dir, name);
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  return writer;
}
