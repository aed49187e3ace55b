#!/usr/bin/env node
// The `finrisk-cache` command (package.json `bin`): runCli on the process, with signals and
// closed pipes handled. Not exported: importing it runs the CLI. No top-level await, so that the
// app can bundle this file into CommonJS for the single-file bundle and the single executable.
import { processIo, runCli } from './index.js';

/**
 * Runs `finrisk-cache` in this process: the first Ctrl-C stops a long-running command (`monitor`)
 * cleanly, a second one exits at once. Resolves with the exit status.
 */
async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // `finrisk-cache monitor | head -1` closes the pipe early: that is not an error, and the exit
    // status stays the command's (processIo drops writes to a closed stdout or stderr); a
    // long-running command stops, as nobody reads it any more.
    const io = processIo({ signal: controller.signal, onBrokenPipe: (stream) => stream === 'stdout' && controller.abort() });
    return await runCli(argv, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
