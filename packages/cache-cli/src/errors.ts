import { FinRiskCacheError } from '@finrisk/cache-core';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

const BRAND = Symbol.for('@finrisk/cache-cli.CliError');

/** Stable codes of the CLI's own errors. */
export type CliErrorCode =
  /** The command line itself is wrong: unknown command or option, missing argument. */
  | 'E_USAGE'
  /** An argument is malformed: invalid JSON, a JSON value of the wrong shape, an unreadable table file. */
  | 'E_BAD_INPUT'
  /**
   * A file named on the command line cannot be used: missing, unreadable, not a regular file (a
   * FIFO, a device, a directory), over a size limit, or (for output) existing without `--force`.
   */
  | 'E_FILE'
  /** Nothing is cached under the name asked for. */
  | 'E_NOT_FOUND'
  /** The backend did not answer. */
  | 'E_UNAVAILABLE'
  /** `monitor` saw a threshold crossed. */
  | 'E_ALERT';

const CLI_EXIT: Record<CliErrorCode, ExitCodeValue> = {
  E_USAGE: ExitCode.USAGE,
  E_BAD_INPUT: ExitCode.USAGE,
  E_FILE: ExitCode.USAGE,
  E_NOT_FOUND: ExitCode.NOT_FOUND,
  E_UNAVAILABLE: ExitCode.UNAVAILABLE,
  E_ALERT: ExitCode.ALERT,
};

/** Thrown by commands for failures the operator can act on; carries its exit status. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly code: CliErrorCode;
  private readonly [BRAND] = true;

  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** The exit status this error ends the process with. */
  get exitCode(): ExitCodeValue {
    return CLI_EXIT[this.code];
  }

  /** True for a CliError from any installed copy of this package. */
  static isInstance(error: unknown): error is CliError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Exit status for each cache-core error code. */
const CORE_EXIT: Record<string, ExitCodeValue> = {
  E_REDIS_UNAVAILABLE: ExitCode.UNAVAILABLE,
  E_TIMEOUT: ExitCode.UNAVAILABLE,
  E_REDIS_COMMAND: ExitCode.UNAVAILABLE,
  E_LOCAL_STORE: ExitCode.UNAVAILABLE,
  E_DEPENDENCY_MISSING: ExitCode.UNAVAILABLE,
  E_INVALID_CONFIG: ExitCode.USAGE,
  E_INVALID_KEY: ExitCode.USAGE,
  E_INVALID_VALUE: ExitCode.USAGE,
  E_PAYLOAD_TOO_LARGE: ExitCode.USAGE,
  E_SCHEMA: ExitCode.USAGE,
  E_FILE: ExitCode.USAGE,
  E_PAYLOAD_CORRUPT: ExitCode.NOT_FOUND,
  E_PAYLOAD_UNSUPPORTED: ExitCode.NOT_FOUND,
};

/** The exit status of any thrown value: CLI errors and cache errors by code, anything else INTERNAL. */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (CliError.isInstance(error)) return error.exitCode;
  if (FinRiskCacheError.isInstance(error)) return CORE_EXIT[error.code] ?? ExitCode.INTERNAL;
  if (hasStringCode(error)) {
    const code = error.code;
    // Errors from other @finrisk packages (ml, frames) share the E_ code vocabulary.
    if (code in CORE_EXIT) return CORE_EXIT[code]!;
    if (code === 'ENOENT') return ExitCode.USAGE;
  }
  return ExitCode.INTERNAL;
}

/** The stable code of any thrown value, for `--json` output. */
export function errorCodeOf(error: unknown): string {
  return hasStringCode(error) ? error.code : 'E_INTERNAL';
}

function hasStringCode(error: unknown): error is { code: string } {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
}
