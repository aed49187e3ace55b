import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@finrisk/test-utils';
import { runCli } from '../run-cli.js';

/** A dashboard the test started in-process (runCli), with what it printed. */
export interface TestDashboard {
  /** The first line it printed: the URL. */
  url: string;
  /** `http://host:port`, without the token. */
  base: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Aborts it (as Ctrl-C does) and returns its exit status. */
  stop(): Promise<number>;
}

/** Test intervals: samples every 0.3 s, fleet and key counts every second. */
export const FAST = ['--refresh', '0.3', '--fleet-interval', '1', '--keys-interval', '1'];

/**
 * Runs `finrisk-cache dashboard ARGS` in this process on a free port and waits for its URL (or
 * its exit, which is returned as `{ exited }`), within 30 s.
 */
export async function startDashboard(args: string[], env: Record<string, string>): Promise<TestDashboard | { exited: number; stderr: string; stdout: string }> {
  const port = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : await freePort();
  const controller = new AbortController();
  let stdout = '';
  let stderr = '';
  const cwd = mkdtempSync(join(tmpdir(), 'finrisk-dashboard-'));
  const running = runCli(['dashboard', ...(args.includes('--port') ? [] : ['--port', String(port)]), ...args], {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: { CACHE_LOCAL_PATH: join(cwd, 'cache.db'), ...env },
    cwd,
    signal: controller.signal,
  });
  let exited: number | undefined;
  void running.then((code) => (exited = code));
  for (let waited = 0; !stdout.includes('\n') && exited === undefined; waited += 20) {
    if (waited > 30_000) throw new Error(`the dashboard printed no URL within 30 s; stderr: ${stderr}`);
    await sleep(20);
  }
  if (exited !== undefined && !stdout.includes('\n')) return { exited, stderr, stdout };
  const url = stdout.split('\n')[0]!;
  return {
    url,
    base: url.replace(/\/(\?.*)?$/, ''),
    port,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async () => {
      controller.abort();
      return running;
    },
  };
}

/** Narrows {@link startDashboard}'s result to a running dashboard, failing with what it printed otherwise. */
export function running(result: Awaited<ReturnType<typeof startDashboard>>): TestDashboard {
  if ('exited' in result) throw new Error(`the dashboard exited with ${result.exited}: ${result.stderr}`);
  return result;
}
