import { processIo, runCli } from '@finrisk/cache-cli';

/**
 * Runs `finrisk-cache` in this process: the first Ctrl-C stops a long-running command (`monitor`)
 * cleanly, a second one exits at once. Returns the exit status.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort();
  };
  // `finrisk-cache stats | head` closes the pipe early: that is not an error.
  const onPipeError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  };
  process.stdout.on('error', onPipeError);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runCli(argv, { ...processIo(), signal: controller.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
