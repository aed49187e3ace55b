/** A stream the CLI writes to: `process.stdout`, `process.stderr`, or a test's collector. */
export interface CliOutputStream {
  write(chunk: string): unknown;
  /** True when the stream is a terminal. */
  isTTY?: boolean;
  /** Width of the terminal in characters, when it is one. */
  columns?: number;
}

/** Everything the CLI touches outside itself, so that tests can run it in-process. */
export interface CliIo {
  /** Results: tables, values, JSON. */
  stdout: CliOutputStream;
  /** Errors, warnings and progress bars. */
  stderr: CliOutputStream;
  /** Environment variables (`REDIS_*`, `CACHE_*`, `NO_COLOR`). @default process.env */
  env: Record<string, string | undefined>;
  /** Directory that relative paths and `.env` are resolved against. @default process.cwd() */
  cwd: string;
  /** Overrides terminal detection for both streams (colour, progress bars). @default each stream's isTTY */
  isTTY?: boolean;
  /** Aborts long-running commands (`monitor`); the process io aborts on SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

/** The io of the running process. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
