/**
 * Exit statuses, the same for every command. Scripts may rely on them; they never change
 * meaning between versions.
 */
export const ExitCode = {
  /** The command did what was asked. */
  OK: 0,
  /** Nothing is cached under the name asked for (a `get-*` miss, an unknown data frame). */
  NOT_FOUND: 1,
  /** Bad usage or bad input: unknown command or option, invalid JSON, missing file, invalid configuration. */
  USAGE: 2,
  /** The backend is unavailable: Redis unreachable or failing, or the embedded store cannot be opened. */
  UNAVAILABLE: 3,
  /** `monitor` saw a threshold crossed (low hit rate, high memory). */
  ALERT: 4,
  /** An unexpected failure: a bug. Rerun with --debug and report the trace. */
  INTERNAL: 5,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
