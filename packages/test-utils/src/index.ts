export { startRedisServer, freePort, RedisServerMissingError } from './redis-server.ts';
export type { RedisServer, RedisServerOptions } from './redis-server.ts';
export { uniquePrefix } from './prefix.ts';
export { measure, measureSync, report } from './bench.ts';
export type { Measurement, RatioRow } from './bench.ts';
export { startRedisCluster, startRedisSentinel } from './redis-topology.ts';
export type { RedisCluster, RedisClusterOptions, RedisSentinelGroup, RedisSentinelOptions } from './redis-topology.ts';
export { topologies, singleNode, redisCluster, redisSentinel } from './topologies.ts';
export type { RedisDeployment, RedisTopology, TopologyConnection, TopologyName, TopologyStartOptions } from './topologies.ts';
