// A throwaway redis-server for the root check scripts (which are plain Node and cannot import
// @finrisk/test-utils' TypeScript sources): a free loopback port, no persistence, killed on stop.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function answersPing(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * The server binary, as @finrisk/test-utils picks it: FINRISK_REDIS_SERVER, else the former
 * REDIS_SERVER_BIN, else redis-server on the PATH.
 */
export const redisServerBin = () => process.env.FINRISK_REDIS_SERVER || process.env.REDIS_SERVER_BIN || 'redis-server';

/** Starts the server (see redisServerBin) and waits until it answers PING. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'finrisk-redis-'));
  const child = spawn(redisServerBin(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const failed = new Promise((_, reject) => child.once('error', (e) => reject(new Error(`redis-server did not start (${e.message}); install it or set FINRISK_REDIS_SERVER to its path`))));
  failed.catch(() => {});
  for (let i = 0; i < 100; i++) {
    if (await Promise.race([answersPing(port), failed])) break;
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** Kills the server; the directory stays until stop(). */
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    stop() {
      this.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
