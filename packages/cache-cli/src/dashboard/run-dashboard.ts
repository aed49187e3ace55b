import { once } from 'node:events';
import type { FrameCache } from '@finrisk/cache-frames';
import { clusterInfoOverrides } from '../cluster-nodes.js';
import { CommandContext } from '../command-context.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { loadFrames } from '../frames-access.js';
import { dashboardAssets } from './assets.js';
import { DashboardAuth } from './auth.js';
import { performClear } from './clears.js';
import { dashboardUrl, resolveDashboardOptions, type DashboardRequest } from './dashboard-options.js';
import { customerView } from './customer-view.js';
import { listFrames, PREVIEW_MAX_BYTES, previewFrame } from './frames-view.js';
import { DashboardServer } from './http-server.js';
import { DashboardSampler } from './sampler.js';

/** How long shutting down may take before connections are cut, in ms. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * Runs `finrisk-cache dashboard` until `ctx.io.signal` aborts (Ctrl-C, SIGTERM): opens the cache,
 * listens, prints the URL as the first line on stdout, samples the cache for the page, and on the
 * signal closes the server and the cache (each bounded).
 *
 * `--host` and `--port` are the dashboard's own address here (the global options' names), so the
 * cache is opened from the other flags, the environment and `.env`: Redis is `--url`,
 * `REDIS_URL`, `REDIS_HOST`/`REDIS_PORT`, or a cluster or sentinel setting.
 */
export async function runDashboard(ctx: CommandContext, request: DashboardRequest): Promise<ExitCodeValue> {
  const options = resolveDashboardOptions(request);
  const { host: _bindHost, port: _bindPort, ...redisFlags } = ctx.flags;
  const redis = new CommandContext(ctx.io, redisFlags);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.io.signal?.addEventListener('abort', onAbort, { once: true });
  let server: DashboardServer | undefined;
  let sampling: Promise<void> | undefined;
  try {
    const config = redis.config();
    // Like `monitor`: with `auto`, watch Redis itself rather than the embedded store it would fall back to.
    const viaRedis = config.backend === 'auto' || config.backend === 'redis';
    const cache = redis.cache({ ...(viaRedis ? { backend: 'redis' as const } : {}), ...clusterInfoOverrides(config) });
    const { createMlCache } = await import('@finrisk/cache-ml');
    const ml = createMlCache(cache);
    let frameCaches: Promise<{ frames: FrameCache; preview: FrameCache }> | undefined;
    // Two views of the same frames: one that lists and clears any table, and one that reads only
    // tables up to PREVIEW_MAX_BYTES (checked from the manifest before a chunk is fetched).
    const loadFrameCaches = () =>
      (frameCaches ??= loadFrames().then(({ createFrameCache }) => ({
        frames: createFrameCache(cache),
        preview: createFrameCache(cache, { maxTableBytes: PREVIEW_MAX_BYTES }),
      })));
    const frames = async () => (await loadFrameCaches()).frames;
    let previews: Promise<unknown> = Promise.resolve();

    const sampler = new DashboardSampler(cache, options);
    const auth = new DashboardAuth({ token: options.token, port: options.port });
    server = new DashboardServer(
      auth,
      {
        state: () => sampler.state(),
        subscribe: (listener) => sampler.subscribe(listener),
        customer: (id) => customerView(ml, id),
        frames: async () => listFrames(await frames()),
        frame: (name) => {
          // One preview at a time: each may hold a whole frame (up to PREVIEW_MAX_BYTES) in memory.
          const next = previews.then(async () => {
            const { frames: all, preview } = await loadFrameCaches();
            const result = await previewFrame(all, preview, name);
            return result.found ? result : null;
          });
          previews = next.catch(() => undefined);
          return next;
        },
        clear: options.allowWrites ? (request) => performClear(ml, frames, request) : undefined,
      },
      dashboardAssets(),
    );
    await server.listen(options.host.replace(/^\[(.*)\]$/, '$1'), options.port);
    const url = dashboardUrl(options.host, options.port, options.token);
    ctx.io.stdout.write(ctx.out.isJson ? `${JSON.stringify({ url, host: options.host, port: options.port, allowWrites: options.allowWrites, tokenRequired: auth.hasToken })}\n` : `${url}\n`);
    ctx.out.warn(
      `dashboard for ${sampler.state().info.address} on ${url.replace(/\?token=.*$/, '')} ` +
        `(${options.allowWrites ? 'clears allowed' : 'read-only'}${auth.hasToken ? ', token required' : ''}); Ctrl-C stops it`,
    );
    sampling = sampler.run(stop.signal);
    if (!stop.signal.aborted) await once(stop.signal, 'abort');
    return ExitCode.OK;
  } finally {
    ctx.io.signal?.removeEventListener('abort', onAbort);
    stop.abort();
    await server?.close(CLOSE_TIMEOUT_MS);
    // The sampler's loops end at once on abort; a command in flight ends within its deadline.
    await sampling;
    await redis.close();
  }
}
