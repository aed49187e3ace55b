import { isatty } from 'node:tty';

/** A stream the CLI writes to: `process.stdout`, `process.stderr`, or a test's collector. */
export interface CliOutputStream {
  write(chunk: string): unknown;
  /** True when the stream is a terminal. */
  isTTY?: boolean;
  /** Width of the terminal in characters, when it is one. */
  columns?: number;
}

/** What the CLI reads input from: `process.stdin`, or a test's stream of bytes. */
export interface CliInputStream extends AsyncIterable<Uint8Array | string> {
  /** True when the stream is a terminal (nothing was piped in). */
  isTTY?: boolean;
  /** Stops reading and releases the stream. */
  destroy?(): unknown;
}

/** Everything the CLI touches outside itself, so that tests can run it in-process. */
export interface CliIo {
  /** Results: tables, values, JSON. */
  stdout: CliOutputStream;
  /** Errors, warnings and progress bars. */
  stderr: CliOutputStream;
  /** Input named `-` on the command line (`cache-df NAME -`, `cache-pred C M -`). @default process.stdin */
  stdin?: CliInputStream;
  /** Environment variables (`REDIS_*`, `CACHE_*`, `NO_COLOR`). @default process.env */
  env: Record<string, string | undefined>;
  /** Directory that relative paths and `.env` are resolved against. @default process.cwd() */
  cwd: string;
  /** Overrides terminal detection for both streams (colour, progress bars). @default each stream's isTTY */
  isTTY?: boolean;
  /** Aborts long-running commands (`monitor`) and reads of standard input; the bin aborts it on SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

/** Options of {@link processIo}. */
export interface ProcessIoOptions {
  /** Aborts long-running commands and reads of standard input. */
  signal?: AbortSignal;
  /**
   * Called once per stream when its reader goes away (EPIPE: `finrisk-cache monitor | head -1`).
   * Writes to that stream are dropped from then on; the exit status stays the command's.
   */
  onBrokenPipe?: (stream: 'stdout' | 'stderr') => void;
}

type ProcessStream = NodeJS.WriteStream;

/** Per process stream: whether its reader has gone, and who wants to know. */
const pipes = new WeakMap<ProcessStream, { broken: boolean; listeners: Set<() => void> }>();

/**
 * A process stream whose writes never throw and never end the process when its reader has closed
 * the pipe: an EPIPE marks the stream broken and later writes are dropped, so a closed stdout or
 * stderr cannot turn a command's exit status into another (it used to become 1, "not found").
 * Other write errors are left to Node, as before.
 */
function guarded(stream: ProcessStream, onBroken: (() => void) | undefined): CliOutputStream {
  let state = pipes.get(stream);
  if (!state) {
    const created = { broken: false, listeners: new Set<() => void>() };
    state = created;
    pipes.set(stream, created);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      if (created.broken) return;
      created.broken = true;
      for (const listener of created.listeners) listener();
    });
  }
  if (onBroken) state.listeners.add(onBroken);
  const current = state;
  return {
    write(chunk: string) {
      if (current.broken) return false;
      return stream.write(chunk);
    },
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
  } as CliOutputStream;
}

/** Standard input of the process, touched only when read (a getter on process.stdin opens it). */
function lazyProcessStdin(): CliInputStream {
  return {
    get isTTY() {
      return isatty(0);
    },
    [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator](),
    destroy: () => process.stdin.destroy(),
  };
}

/** The io of the running process, with stdout and stderr that survive a reader closing them. */
export function processIo(options: ProcessIoOptions = {}): CliIo {
  const broken = (name: 'stdout' | 'stderr') => (options.onBrokenPipe ? () => options.onBrokenPipe!(name) : undefined);
  return {
    stdout: guarded(process.stdout, broken('stdout')),
    stderr: guarded(process.stderr, broken('stderr')),
    stdin: lazyProcessStdin(),
    env: process.env,
    cwd: process.cwd(),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}
