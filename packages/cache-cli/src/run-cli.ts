import { processIo, type CliIo } from './cli-io.js';
import { COMMANDS } from './commands/all-commands.js';
import { reportError } from './error-report.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { buildProgram } from './program.js';

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns the exit status; it
 * never calls `process.exit`, so tests can run it in-process with their own io.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<ExitCodeValue> {
  const fullIo: CliIo = { ...processIo(), ...io };
  const flags = { json: argv.includes('--json'), debug: argv.includes('--debug') };
  let exitCode: ExitCodeValue = ExitCode.OK;
  const program = buildProgram(fullIo, COMMANDS, { onExit: (code) => (exitCode = code) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, fullIo, flags);
  }
}
