import { CommanderError } from 'commander';
import { FinRiskCacheError } from '@finrisk/cache-core';
import type { CliIo } from './cli-io.js';
import { errorCodeOf, exitCodeFor } from './errors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { createColors, isColorEnabled } from './output/colors.js';

/** Commander's error codes that end the program successfully. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/** One line from a commander message: no `error:` prefix, the suggestion on the same line. */
function commanderLine(error: CommanderError): string {
  let text = error.message.replace(/^error: /, '').trim();
  if (error.code === 'commander.unknownCommand') {
    const suggestion = /\(Did you mean (.+?)\?\)/.exec(text)?.[1];
    const name = /unknown command '([^']*)'/.exec(text)?.[1] ?? '';
    return `unknown command '${name}'${suggestion ? `; did you mean '${suggestion}'?` : ''} Run finrisk-cache --help for the list of commands.`;
  }
  if (error.code === 'commander.unknownOption') {
    text = text.replace(/\n\(Did you mean (.+?)\?\)/, "; did you mean '$1'?");
  }
  return text.replace(/\s*\n\s*/g, ' ');
}

/** The exit status for a commander error (help and version are successes). */
function commanderExit(error: CommanderError): ExitCodeValue {
  return COMMANDER_SUCCESS.has(error.code) ? ExitCode.OK : ExitCode.USAGE;
}

/**
 * Reports a failure: one readable line on stderr (plus the stack and causes with `--debug`), a
 * JSON error document on stdout with `--json`, and returns the exit status.
 */
export function reportError(error: unknown, io: CliIo, flags: { json: boolean; debug: boolean }): ExitCodeValue {
  if (error instanceof CommanderError) {
    // `help COMMAND` exits 0; `finrisk-cache` alone prints the help on stderr, which is the whole message.
    if (error.code === 'commander.help') return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    const code = commanderExit(error);
    if (code === ExitCode.OK) return code;
    writeLine(io, commanderLine(error), flags.debug ? error : undefined);
    if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'E_USAGE', message: commanderLine(error), exitCode: code } })}\n`);
    return code;
  }
  const code = exitCodeFor(error);
  const message = error instanceof Error ? error.message : String(error);
  const stable = errorCodeOf(error);
  const line = FinRiskCacheError.isInstance(error) ? `${message} (${stable})` : message;
  writeLine(io, code === ExitCode.INTERNAL ? `unexpected failure: ${line} (rerun with --debug for the stack trace)` : line, flags.debug ? error : undefined);
  if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, error: { code: stable, message, exitCode: code } })}\n`);
  return code;
}

function writeLine(io: CliIo, line: string, debugError: unknown): void {
  const colors = createColors(isColorEnabled(io.stderr, io.env, io.isTTY));
  io.stderr.write(`${colors.red('finrisk-cache:')} ${line.replace(/\s*\n\s*/g, ' ')}\n`);
  if (debugError !== undefined) {
    let current: unknown = debugError;
    for (let depth = 0; current !== undefined && depth < 5; depth++) {
      io.stderr.write(`${depth ? 'Caused by: ' : ''}${current instanceof Error ? current.stack ?? current.message : String(current)}\n`);
      current = current instanceof Error ? current.cause : undefined;
    }
  }
}
