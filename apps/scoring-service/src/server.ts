import { createCache } from '@finrisk/cache-core';
import { buildApp } from './app.js';

// A service keeps serving (computing) while Redis is away, so it uses Redis or nothing, never
// the embedded on-disk fallback of `auto` (each replica would cache apart). CACHE_BACKEND overrides.
const cache = createCache(process.env.CACHE_BACKEND ? {} : { backend: 'redis' });
const app = await buildApp({ cache, logger: { level: process.env.LOG_LEVEL ?? 'info' } });

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143); // a second signal: at once
  stopping = true;
  app.log.info({ signal }, 'shutting down: finishing in-flight requests');
  try {
    await app.close(); // stops accepting, waits for in-flight requests, drains background refreshes
    await cache.close();
  } catch (error) {
    app.log.error(error, 'error while shutting down');
    process.exitCode = 1;
  }
}
process.on('SIGINT', (s) => void shutdown(s));
process.on('SIGTERM', (s) => void shutdown(s));

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  app.log.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}
await app.listen({ port, host: process.env.HOST ?? '0.0.0.0' });
