import type { CommandDefinition } from '../command-definition.js';
import { InvalidArgumentError } from 'commander';
import { positiveNumber } from '../option-parsers.js';

/** A number of seconds (or minutes) from `min` to `max`: the dashboard must not poll Redis in a tight loop. */
function between(min: number, max: number, name: string): (raw: string) => number {
  const positive = positiveNumber(name);
  return (raw) => {
    const value = positive(raw);
    if (value < min || value > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}.`);
    return value;
  };
}

/** Port the dashboard listens on by default. */
export const DEFAULT_DASHBOARD_PORT = 7379;
/** Address the dashboard listens on by default: loopback only. */
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
/** Environment variable that gives the token without showing it in `ps`. */
export const TOKEN_VARIABLE = 'FINRISK_DASHBOARD_TOKEN';

/**
 * `dashboard`: the cache in a browser. This file stays small: the server, the sampler and the
 * embedded page load only when the command runs, so the other commands start as fast as before.
 */
export const dashboardCommand: CommandDefinition = {
  name: 'dashboard',
  summary: 'serve a live dashboard in the browser: overview and charts, fleet hit rates, customer lookup, data frames, nodes',
  description:
    'Serves a page (and prints its URL as the first line on stdout) that shows, updated live: status, memory against maxmemory, ' +
    'keys per kind, the server and fleet hit rates per service and kind, charts over time of hit rate, memory, operations per ' +
    'second and latency per kind; a customer lookup (what `inspect` prints, with the values); the cached data frames with a ' +
    "preview of each; the nodes of a cluster or sentinel group. Ctrl-C stops it.\n\n" +
    `--host and --port are the dashboard's own address here (default ${DEFAULT_DASHBOARD_HOST}:${DEFAULT_DASHBOARD_PORT}): name Redis with --url, ` +
    'REDIS_URL, REDIS_HOST / REDIS_PORT, or a cluster or sentinel setting. On loopback no token is needed; on any other address ' +
    `every request needs one (--token, ${TOKEN_VARIABLE}, or one generated and printed in the URL). ` +
    'Read-only unless --allow-writes, which adds clears (a customer\'s predictions or features, a model\'s artifacts, a frame), ' +
    'each confirmed by typing the name of what is cleared. What it asks of Redis: a PING and an INFO every --refresh seconds, ' +
    'the fleet\'s statistics (a SCAN and MGETs) every --fleet-interval seconds, and a paced SCAN of the key prefix every ' +
    '--keys-interval seconds; a scan waits at least 19 times its own duration before the next, so a big keyspace is walked at most 5% of the time.',
  options: [
    { flags: '--token <TOKEN>', description: `require this token on every request (default: ${TOKEN_VARIABLE}; generated when --host is not loopback)` },
    { flags: '--allow-writes', description: 'offer clears, each behind a typed confirmation (default: read-only)' },
    { flags: '--refresh <SECONDS>', description: 'seconds between two samples of the server (PING, INFO)', parse: between(0.1, 3600, '--refresh'), default: 2 },
    { flags: '--fleet-interval <SECONDS>', description: "least seconds between two reads of the fleet's statistics", parse: between(0.5, 86_400, '--fleet-interval'), default: 10 },
    { flags: '--keys-interval <SECONDS>', description: 'least seconds between two counts of the keys per kind (SCAN)', parse: between(0.5, 86_400, '--keys-interval'), default: 60 },
    { flags: '--history <MINUTES>', description: 'minutes of history the charts keep, in memory (at most 20,000 samples)', parse: between(1, 10_080, '--history'), default: 60 },
  ],
  examples: [
    'finrisk-cache dashboard',
    'finrisk-cache dashboard --port 8080 --url redis://cache.internal:6379/0',
    'ssh -L 7379:127.0.0.1:7379 ops@cache-host  # then, on cache-host: finrisk-cache dashboard',
    'FINRISK_DASHBOARD_TOKEN=$(openssl rand -hex 24) finrisk-cache dashboard --host 0.0.0.0',
    'finrisk-cache dashboard --allow-writes',
  ],
  async run(ctx, _args, options) {
    const { runDashboard } = await import('../dashboard/run-dashboard.js');
    return runDashboard(ctx, {
      host: ctx.flags.host ?? DEFAULT_DASHBOARD_HOST,
      port: ctx.flags.port ?? DEFAULT_DASHBOARD_PORT,
      token: (options.token as string | undefined) ?? (ctx.io.env[TOKEN_VARIABLE] || undefined),
      allowWrites: options.allowWrites === true,
      refreshMs: (options.refresh as number) * 1000,
      fleetIntervalMs: (options.fleetInterval as number) * 1000,
      keysIntervalMs: (options.keysInterval as number) * 1000,
      historyMs: (options.history as number) * 60_000,
    });
  },
};
