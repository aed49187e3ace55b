import type { RedisClientOptions } from '@redis/client';

/** A node whose writes must be heard: the server, the master Sentinel names, or each master of a cluster. */
export interface TrackingNode {
  /** Stable name of the node (`host:port`). */
  readonly id: string;
  /** How to connect to it (auth, TLS, address). */
  readonly options: RedisClientOptions;
  /**
   * True where SWAPDB can swap the tracked database for another (a server, a Sentinel master;
   * a cluster has only database 0 and refuses SWAPDB): the connection then watches for it.
   */
  readonly swappable?: boolean;
}
