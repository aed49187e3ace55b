import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_VARIABLE, redisServerBin, runCli } from './redis-binaries.ts';
import { parseServerIdentity, type ServerIdentity } from './server-identity.ts';

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `['--requirepass', 'secret']`. */
  args?: string[];
  /** A config file, passed first (sentinels need one they can rewrite). */
  configFile?: string;
  /** Port to listen on. @default a free loopback port */
  port?: number;
  /** Password the readiness probe authenticates with, when the server requires one. */
  password?: string;
  /** Skip the readiness probe's AUTH/PING (e.g. TLS-only servers); the port being open is enough. */
  probe?: 'ping' | 'port';
  /** How long to wait for the server to accept connections, in ms. @default 10000 */
  startTimeoutMs?: number;
}

/** A redis-server process owned by a test. */
export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `redis://127.0.0.1:{port}` */
  readonly url: string;
  /** Working directory of the server (its `dir`), removed on {@link RedisServer.stop}. */
  readonly dir: string;
  readonly pid: number | undefined;
  /** Runs `redis-cli` (the client of the same build: see `redisCliBin`) against this server and returns its trimmed stdout. */
  cli(...args: string[]): string;
  /** Which server this is (name and version from INFO server), asked once and remembered. */
  identity(): ServerIdentity;
  /** Sends a signal to the process (SIGSTOP to freeze it, SIGCONT to thaw it). */
  signal(signal: NodeJS.Signals): void;
  /** Kills the process and waits for it to exit; the port stays reserved for {@link RedisServer.restart}. */
  kill(): Promise<void>;
  /** Starts a new process on the same port with the same arguments. */
  restart(): Promise<void>;
  /** Stops the process and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when `redis-server` is not installed, so that a missing binary reads as such and not as a hang. */
export class RedisServerMissingError extends Error {
  override readonly name = 'RedisServerMissingError';
}

function assertRedisInstalled(): void {
  const bin = redisServerBin();
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new RedisServerMissingError(
      `${bin} was not found or did not run (${probe.error?.message ?? `exit ${probe.status}`}). ` +
        `Install it (Debian: apt-get install redis-server) or set ${SERVER_VARIABLE} to the path of a redis-server or valkey-server.`,
    );
  }
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

function portAnswers(port: number, password: string | undefined, mode: 'ping' | 'port'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => {
      if (mode === 'port') return done(true);
      const auth = password ? `AUTH ${password}\r\n` : '';
      socket.write(`${auth}PING\r\n`);
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (data.includes('+PONG')) done(true);
      else if (data.includes('-LOADING')) done(false);
      else if (data.includes('-') && !password) done(true); // NOAUTH etc.: it is up
    });
  });
}

async function waitForPort(port: number, options: RedisServerOptions, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}: ${log()}`);
    }
    if (await portAnswers(port, options.password, options.probe ?? 'ping')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer within ${options.startTimeoutMs ?? 10_000} ms: ${log()}`);
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts a throwaway `redis-server` on a free loopback port, with no persistence, in its own
 * temporary directory. Tests must call `stop()` (usually in `afterAll`).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'finrisk-redis-'));
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (fixedPort: boolean) => {
    // Another process can take a "free" port between the probe and the bind: retry on a new one.
    for (let attempt = 0; ; attempt++) {
      output = '';
      const args = [
        ...(options.configFile ? [options.configFile] : []),
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
        '--daemonize', 'no',
        '--loglevel', 'warning',
        ...(options.args ?? []),
      ];
      const proc = spawn(redisServerBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
      proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
      live.add(proc);
      proc.once('exit', () => live.delete(proc));
      child = proc;
      try {
        await waitForPort(port, options, proc, () => output.slice(-2000));
        return;
      } catch (error) {
        proc.kill('SIGKILL');
        await waitForExit(proc);
        if (fixedPort || attempt >= 3 || !/Address already in use/i.test(output)) throw error;
        port = await freePort();
      }
    }
  };

  await launch(options.port !== undefined);

  let identity: ServerIdentity | undefined;
  const server: RedisServer = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    dir,
    get pid() {
      return child?.pid;
    },
    cli(...args: string[]) {
      const auth = options.password ? ['--no-auth-warning', '-a', options.password] : [];
      return runCli(['-h', '127.0.0.1', '-p', String(port), ...auth, ...args]);
    },
    identity() {
      identity ??= parseServerIdentity(server.cli('INFO', 'server'));
      return identity;
    },
    signal(signal) {
      child?.kill(signal);
    },
    async kill() {
      if (!child) return;
      child.kill('SIGCONT'); // a frozen process cannot act on SIGKILL's exit bookkeeping otherwise
      child.kill('SIGKILL');
      await waitForExit(child);
    },
    async restart() {
      await server.kill();
      await launch(true);
    },
    async stop() {
      await server.kill();
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
