export { runCli } from './run-cli.js';
export { processIo } from './cli-io.js';
export type { CliIo, CliInputStream, CliOutputStream, ProcessIoOptions } from './cli-io.js';
export { ExitCode } from './exit-codes.js';
export type { ExitCodeValue } from './exit-codes.js';
export { CliError, exitCodeFor, errorCodeOf } from './errors.js';
export type { CliErrorCode } from './errors.js';
export { VERSION } from './version.js';
