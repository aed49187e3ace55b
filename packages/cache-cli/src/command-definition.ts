import type { CommandContext } from './command-context.js';
import type { ExitCodeValue } from './exit-codes.js';

/** A positional argument of a command, e.g. `CUSTOMER`. */
export interface CommandArgument {
  /** Upper-case name shown in help. */
  name: string;
  description: string;
  /** @default false */
  optional?: boolean;
}

/** An option of one command, e.g. `--ttl <SECONDS>`. */
export interface CommandOption {
  /** Commander flags, e.g. `--ttl <SECONDS>`. */
  flags: string;
  description: string;
  /** Turns the text into a value; throw commander's InvalidArgumentError for bad input. */
  parse?: (raw: string) => unknown;
  /** Value when the option is not given. */
  default?: string | number | boolean;
}

/** One command of the CLI: its help and what it does. */
export interface CommandDefinition {
  /** The word typed after `finrisk-cache`, e.g. `get-pred`. */
  name: string;
  /** Other words that run the same command, shown in its help. @default none */
  aliases?: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** Longer help for `finrisk-cache help NAME`. @default summary */
  description?: string;
  arguments?: readonly CommandArgument[];
  options?: readonly CommandOption[];
  /** Example command lines, shown in the command's help. */
  examples?: readonly string[];
  /**
   * Does the work. Returns the exit status (OK when nothing is returned); throws CliError or a
   * cache error for failures, which become one line on stderr and their exit status.
   */
  run(ctx: CommandContext, args: readonly string[], options: Record<string, unknown>): Promise<ExitCodeValue | void>;
}
