import { spawn, type ChildProcess } from 'node:child_process';
import { BUILT_BIN } from './run-binary.js';

/** A `finrisk-cache dashboard` subprocess, started the way a user starts it. */
export interface DashboardProcess {
  /** The first line it printed on stdout. */
  url: string;
  /** `http://host:port` of that URL, without the token. */
  base: string;
  child: ChildProcess;
  stderr(): string;
  /** Sends SIGINT (Ctrl-C) and waits for the exit, within `ms`; resolves to the exit code. */
  stop(ms?: number): Promise<number | null>;
}

/**
 * Runs `command` (default: node and the built bin) with `dashboard ARGS` and waits for its first
 * line on stdout, the URL (within 30 s; an exit before it is an error naming stderr).
 */
export async function startDashboardProcess(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; command?: readonly string[] },
): Promise<DashboardProcess> {
  const [file, ...pre] = options.command ?? [process.execPath, BUILT_BIN];
  const child = spawn(file!, [...pre, 'dashboard', ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the dashboard printed no URL within 30 s; stderr: ${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(stdout.split('\n')[0]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the dashboard exited with ${code} before printing its URL; stderr: ${stderr}`));
    });
  });
  return {
    url,
    base: url.replace(/\/(\?.*)?$/, ''),
    child,
    stderr: () => stderr,
    async stop(ms = 15_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`the dashboard did not stop within ${ms} ms of SIGINT`));
        }, ms);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
