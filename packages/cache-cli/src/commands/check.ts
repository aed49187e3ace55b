import { describeRedisAddress } from '@finrisk/cache-core';
import { rootMessage } from '../command-context.js';
import { clusterInfoOverrides, formatNodes, readClusterNodes } from '../cluster-nodes.js';
import type { CommandDefinition } from '../command-definition.js';
import { ExitCode } from '../exit-codes.js';
import { formatMs } from '../output/format.js';

/**
 * `check`: does the backend answer? With `auto` it checks Redis itself (not the fallback), so
 * an unreachable Redis is a failure (exit 3) even though the other commands would still work on
 * the embedded store.
 */
export const checkCommand: CommandDefinition = {
  name: 'check',
  summary: 'check the connection to Redis (exit 3 when it is unreachable)',
  description:
    'Checks that the configured backend answers and how fast. With CACHE_BACKEND=auto (the default) it checks Redis: ' +
    'when Redis is unreachable it says so and exits 3, even though the other commands keep working on the embedded store. ' +
    'On a Redis Cluster it fails (exit 3) when any hash slot is not served, and lists every node with its role.',
  examples: ['finrisk-cache check', 'finrisk-cache check --url redis://cache.internal:6379/0', 'finrisk-cache check --json'],
  async run(ctx) {
    const config = ctx.config();
    const { out } = ctx;
    const c = out.colors;
    const viaRedis = config.backend === 'auto' || config.backend === 'redis';
    const cache = ctx.cache({ ...(viaRedis ? { backend: 'redis' as const } : {}), ...clusterInfoOverrides(config) });
    let reason: unknown;
    cache.on('degraded', ({ error }) => (reason ??= error));
    let result = await cache.checkConnection();
    const nodes = await readClusterNodes(cache);
    // A cluster that cannot list its nodes is not serving: node-redis can come up with no master at
    // all when the seeds it reached are in cluster_state:fail, and a PING of no master passes.
    if (result.ok && config.clusterNodes && !nodes?.some((n) => n.role === 'master')) {
      const { latencyMs: _latency, ...checked } = result;
      result = { ...checked, ok: false, code: 'E_REDIS_UNAVAILABLE', error: 'the cluster did not list a master that answers (slots not served?)' };
    }
    const where = result.backend === 'redis' ? `Redis at ${describeRedisAddress(config)}` : `the ${result.backend} store at ${result.address}`;
    const fallback = config.backend === 'auto' && !result.ok ? { backend: 'local', location: config.localPath } : undefined;
    const why = result.ok ? undefined : reason === undefined ? result.error ?? 'no answer' : rootMessage(reason);
    out.json({ ...result, ...(why ? { error: why } : {}), configuredBackend: config.backend, ...(fallback ? { fallback } : {}), ...(nodes ? { nodes } : {}) });
    const nodeLines = nodes ? ['', formatNodes(nodes, c)] : [];
    if (result.ok) {
      out.line(`${c.green('OK')}  ${where} answered in ${formatMs(result.latencyMs ?? 0)}`);
      for (const line of nodeLines) out.line(line);
      return ExitCode.OK;
    }
    out.line(`${c.red('FAIL')}  ${where} is not reachable`);
    for (const line of nodeLines) out.line(line);
    out.error(
      `${where} is not reachable (${why})` +
        (fallback ? `; the other commands fall back to the embedded store at ${fallback.location}` : '') +
        '. Is redis-server running? Verify the settings with `finrisk-cache config`.',
    );
    return ExitCode.UNAVAILABLE;
  },
};
