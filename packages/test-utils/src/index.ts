export { startRedisServer, freePort, RedisServerMissingError } from './redis-server.ts';
export type { RedisServer, RedisServerOptions } from './redis-server.ts';
export { uniquePrefix } from './prefix.ts';
