import { setTimeout as sleep } from 'node:timers/promises';
import { describeRedisAddress, type CacheStats } from '@finrisk/cache-core';
import { rootMessage } from '../command-context.js';
import { clusterInfoOverrides } from '../cluster-nodes.js';
import type { CommandDefinition } from '../command-definition.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { integerIn, positiveNumber, ratio } from '../option-parsers.js';
import { formatCount, formatPercent } from '../output/format.js';

/** Thresholds of {@link evaluateHealth}. */
export interface MonitorThresholds {
  /** Alert below this server-wide hit rate, 0..1. @default 0.8 */
  minHitRate: number;
  /** Alert above this much used memory, in MB (MiB). @default 1000 */
  maxMemoryMb: number;
}

/** The outcome of one monitoring check. */
export interface HealthCheck {
  /** ok, alert (a threshold crossed) or down (the backend did not answer). */
  state: 'ok' | 'alert' | 'down';
  /** One sentence per threshold crossed, or why the backend is down. */
  alerts: string[];
}

/**
 * The guide's monitoring rules: alert when the hit rate is below the minimum (only once there
 * have been reads: a fresh server has no hit rate yet) or memory is above the maximum.
 */
export function evaluateHealth(stats: CacheStats, thresholds: MonitorThresholds): HealthCheck {
  if (stats.status === 'unhealthy') {
    const what = stats.backend === 'redis' ? 'Redis' : `the ${stats.backend} store`;
    return { state: 'down', alerts: [`${what} at ${stats.location} is not reachable (${stats.error ?? 'no answer'})`] };
  }
  const alerts: string[] = [];
  const reads = stats.keyspaceHits + stats.keyspaceMisses;
  if (reads > 0 && stats.hitRate < thresholds.minHitRate) {
    alerts.push(`low cache hit rate: ${formatPercent(stats.hitRate)} < ${formatPercent(thresholds.minHitRate)}`);
  }
  const usedMb = stats.usedMemoryBytes / 1024 / 1024;
  if (usedMb > thresholds.maxMemoryMb) alerts.push(`high memory usage: ${usedMb.toFixed(2)}MB > ${thresholds.maxMemoryMb}MB`);
  return { state: alerts.length ? 'alert' : 'ok', alerts };
}

/** `monitor`: the guide's monitoring script as a command, one line per check. */
export const monitorCommand: CommandDefinition = {
  name: 'monitor',
  summary: 'watch hit rate and memory, one line per check; alerts below --min-hit-rate or above --max-memory-mb',
  description:
    'Checks the cache every --interval seconds and prints one line per check: hit rate, memory, keys, evictions. ' +
    'A check whose hit rate is below --min-hit-rate (once there have been reads) or whose memory is above ' +
    '--max-memory-mb is marked ALERT; an unreachable backend is marked DOWN. With --once (for cron) it checks once and ' +
    'exits 4 on an alert, 3 when the backend is down. With --count N it stops after N checks and exits the same way ' +
    '(3 if any check was DOWN, else 4 if any was an ALERT). With the auto backend it watches Redis, not the fallback.',
  options: [
    { flags: '--interval <SECONDS>', description: 'seconds between checks', parse: positiveNumber('--interval'), default: 300 },
    { flags: '--min-hit-rate <RATIO>', description: 'alert below this hit rate (0..1 or a percentage)', parse: ratio('--min-hit-rate'), default: 0.8 },
    { flags: '--max-memory-mb <MB>', description: 'alert above this much used memory, in MB', parse: positiveNumber('--max-memory-mb'), default: 1000 },
    { flags: '--once', description: 'check once and exit: 0 ok, 4 alert, 3 down (for cron)' },
    { flags: '--count <N>', description: 'stop after N checks', parse: integerIn(1, Number.MAX_SAFE_INTEGER, '--count') },
  ],
  examples: [
    'finrisk-cache monitor',
    'finrisk-cache monitor --interval 60 --min-hit-rate 0.9 --max-memory-mb 2000',
    'finrisk-cache monitor --once || alert-on-call "finrisk cache needs attention"',
    'finrisk-cache monitor --json --interval 10 --count 6',
  ],
  async run(ctx, _args, options) {
    const config = ctx.config();
    const thresholds: MonitorThresholds = { minHitRate: options.minHitRate as number, maxMemoryMb: options.maxMemoryMb as number };
    const checks = options.once === true ? 1 : (options.count as number | undefined) ?? Number.POSITIVE_INFINITY;
    const intervalMs = (options.interval as number) * 1000;
    const viaRedis = config.backend === 'auto' || config.backend === 'redis';
    const cache = ctx.cache({ ...(viaRedis ? { backend: 'redis' as const } : {}), ...clusterInfoOverrides(config) });
    // The connection error says why (ECONNREFUSED, a timeout); a failed PING only says "offline".
    let downBecause: string | undefined;
    cache.on('degraded', ({ error }) => (downBecause = rootMessage(error)));
    cache.on('recovered', () => (downBecause = undefined));
    const { out } = ctx;
    const c = out.colors;
    let worst: ExitCodeValue = ExitCode.OK;
    for (let done = 0; done < checks; ) {
      const raw = await cache.stats();
      const stats = raw.status === 'unhealthy' && downBecause ? { ...raw, location: describeRedisAddress(config), error: downBecause } : raw;
      const health = evaluateHealth(stats, thresholds);
      const time = new Date().toISOString();
      if (health.state === 'down') worst = ExitCode.UNAVAILABLE;
      else if (health.state === 'alert' && worst === ExitCode.OK) worst = ExitCode.ALERT;
      const reads = stats.keyspaceHits + stats.keyspaceMisses;
      out.json({
        time,
        state: health.state,
        alerts: health.alerts,
        backend: stats.backend,
        location: stats.backend === 'redis' ? describeRedisAddress(config) : stats.location,
        hitRate: reads > 0 ? stats.hitRate : null,
        usedMemory: stats.usedMemory,
        usedMemoryBytes: stats.usedMemoryBytes,
        keys: stats.keys,
        evictedKeys: stats.evictedKeys,
        expiredKeys: stats.expiredKeys,
      });
      if (health.state === 'down') {
        out.line(`${time}  ${c.red('DOWN ')}  ${health.alerts.join('; ')}`);
      } else {
        const label = health.state === 'alert' ? c.red('ALERT') : c.green('OK   ');
        const figures =
          `Hit Rate ${reads > 0 ? formatPercent(stats.hitRate) : 'n/a'}  Memory ${stats.usedMemory}  ` +
          `Keys ${formatCount(stats.keys)}  Evicted ${formatCount(stats.evictedKeys)}  Expired ${formatCount(stats.expiredKeys)}`;
        out.line(`${time}  ${label}  ${figures}${health.alerts.length ? `  ${c.red(`!! ${health.alerts.join('; ')}`)}` : ''}`);
      }
      done++;
      if (done >= checks) break;
      try {
        await sleep(intervalMs, undefined, ctx.io.signal ? { signal: ctx.io.signal } : {});
      } catch {
        break; // interrupted: stop quietly, with the status so far
      }
    }
    if (worst !== ExitCode.OK) {
      out.error(worst === ExitCode.UNAVAILABLE ? 'the backend was not reachable (DOWN above)' : 'a threshold was crossed (ALERT above)');
    }
    return worst;
  },
};
