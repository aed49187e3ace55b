// vitest globalSetup of the integration project: says once per run which server the tests start
// (name and version from INFO server, and the binaries), so that a run's output shows what it
// proved. It starts the server once to ask it: a binary that does not run fails here, before any
// test, with the message of startRedisServer.
import { redisCliBin, redisServerBin } from './redis-binaries.ts';
import { startRedisServer } from './redis-server.ts';
import { describeServer } from './server-identity.ts';

export default async function setup(): Promise<void> {
  const server = await startRedisServer();
  try {
    const identity = server.identity();
    process.stdout.write(`[test-utils] integration tests run against ${describeServer(identity)}: ${redisServerBin()}, client ${redisCliBin()}\n`);
  } finally {
    await server.stop();
  }
}
