// The fixtures integration suites used to copy into every file: a deployment started for a suite
// with the caches of each test closed after it, waiting until a cache's L1 serves, waiting for a
// condition, waiting until a TTL has run out, and a slow link (a server behind the fault proxy).
// A separate entry point (`@finrisk/test-utils/fixtures`) because it registers vitest hooks and
// uses `vi`: the benchmarks import the rest of test-utils outside vitest.
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.ts';
import type { RedisDeployment, RedisTopology, TopologyStartOptions } from './topologies.ts';

/** Something a test opens and must close: a cache, a client. */
export interface Closable {
  close(): Promise<unknown>;
}

/** What {@link useDeployment} gives a suite. */
export interface DeploymentFixture {
  /** The running deployment; read it inside a test or hook (it is started in `beforeAll`). */
  readonly deployment: RedisDeployment;
  /** Closes `resource` after the current test (all of them in parallel); returns it. */
  track<T extends Closable>(resource: T): T;
}

/** Closes what the tests of a suite opened, after each test. */
function tracker(): { track<T extends Closable>(resource: T): T; closeAll(): Promise<void> } {
  const open: Closable[] = [];
  return {
    track(resource) {
      open.push(resource);
      return resource;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((r) => r.close()));
    },
  };
}

/**
 * Starts `topology` before the suite (in `beforeAll`), closes what each test tracked after it and
 * stops the deployment after the suite. Call it at the top of a `describe` body.
 */
export function useDeployment(topology: RedisTopology, options?: TopologyStartOptions): DeploymentFixture {
  let deployment: RedisDeployment | undefined;
  const opened = tracker();
  beforeAll(async () => {
    deployment = await topology.start(options);
  });
  afterEach(() => opened.closeAll());
  afterAll(async () => {
    await deployment?.stop();
  });
  return {
    get deployment() {
      if (!deployment) throw new Error(`the ${topology.name} deployment is not started yet (read it inside a test or hook)`);
      return deployment;
    },
    track: opened.track,
  };
}

/** What {@link useSlowLink} gives a suite. */
export interface SlowLinkFixture {
  /** The redis-server behind the proxy. */
  readonly server: RedisServer;
  /** The fault proxy in front of it: connect to `proxy.url`; healed after each test. */
  readonly proxy: FaultProxy;
  /** Closes `resource` after the current test, before the proxy is healed; returns it. */
  track<T extends Closable>(resource: T): T;
}

/**
 * A redis-server behind a fault proxy for the suite: a link a test can slow down
 * (`proxy.setBandwidth`, latency) or break. After each test the proxy is healed and what the test
 * tracked is closed.
 */
export function useSlowLink(options?: RedisServerOptions): SlowLinkFixture {
  let server: RedisServer | undefined;
  let proxy: FaultProxy | undefined;
  const opened = tracker();
  beforeAll(async () => {
    server = await startRedisServer(options);
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
  });
  afterEach(async () => {
    proxy?.heal();
    await opened.closeAll();
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the slow link is not started yet (read it inside a test or hook)');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get proxy() {
      return started(proxy);
    },
    track: opened.track,
  };
}

/**
 * Waits until `probe` returns something truthy and returns that, polling with `vi.waitFor`
 * (a probe that throws counts as not yet). Fails naming `what` after `timeoutMs`.
 * @param timeoutMs how long to wait, in ms. @default 20000
 */
export async function until<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  try {
    return await vi.waitFor(
      async () => {
        const value = await probe();
        if (!value) throw new Error(`not yet: ${what}`);
        return value;
      },
      { timeout: timeoutMs, interval: 25 },
    );
  } catch (error) {
    throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`, { cause: error });
  }
}

/** The part of a cache that says whether its L1 tier serves (structural: test-utils does not depend on cache-core). */
export interface HasL1 {
  processStats(): { l1?: { serving: boolean } | undefined };
}

/**
 * Waits until the L1 tier of `cache` serves (its invalidation tracking is established, so the
 * first read after fills L1); returns the cache.
 * @param timeoutMs @default 20000
 */
export async function untilL1Serves<T extends HasL1>(cache: T, timeoutMs = 20_000): Promise<T> {
  await until('L1 serves', () => cache.processStats().l1?.serving === true, timeoutMs);
  return cache;
}

/**
 * Resolves once the clock is past `deadline` (epoch ms), for a TTL to have run out: a wait for
 * the condition "this much time has passed since X", where X is measured, not a guess at how
 * long some work takes. Adds a few ms for timer and clock resolution.
 */
export async function clockPast(deadline: number): Promise<void> {
  const margin = 5;
  while (Date.now() <= deadline + margin) {
    await new Promise((resolve) => setTimeout(resolve, deadline + margin + 1 - Date.now()));
  }
}
