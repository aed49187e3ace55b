import type { Cache } from '@finrisk/cache-core';
import { registerPrometheusMetrics } from '@finrisk/cache-core/prometheus';
import { createMlCache } from '@finrisk/cache-ml';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import * as promClient from 'prom-client';
import { customerIdProblem, modelVersionProblem } from './customer-id.js';
import { ModelVersions } from './model-versions.js';
import { createScorer } from './scorer.js';
import { isModelName, MODEL_NAMES, type CustomerFeatures, type RiskPrediction, type ToyModelCosts } from './toy-model.js';

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /** The cache (the caller owns it and closes it after the app). */
  cache: Cache;
  /** Read features and predictions through the cache. `false` scores every request from scratch (for comparison). @default true */
  useCache?: boolean;
  /** Version every model serves at start. @default 'v1' */
  initialModelVersion?: string;
  /** Costs of the toy feature store and model. @default 5 ms of waiting per feature read, 1 ms of CPU per prediction */
  costs?: ToyModelCosts;
  /** Fastify's logger option. @default false */
  logger?: FastifyServerOptions['logger'];
}

/** Builds the scoring service: credit and fraud risk, model deploys, health and metrics. */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { cache } = options;
  const useCache = options.useCache ?? true;
  const ml = useCache ? createMlCache<RiskPrediction, CustomerFeatures>(cache) : null;
  const scorer = createScorer({ ml, versions: new ModelVersions(options.initialModelVersion), ...(options.costs ? { costs: options.costs } : {}) });

  // One registry per app, so that two apps in one process (tests) do not collide.
  const registry = new promClient.Registry();
  const stopMetrics = registerPrometheusMetrics(cache, { client: promClient, registry });

  const app = Fastify({ logger: options.logger ?? false });
  app.addHook('onClose', async () => {
    stopMetrics();
    await ml?.drain();
  });

  for (const model of MODEL_NAMES) {
    app.get<{ Params: { id: string } }>(`/v1/customers/:id/${model}-risk`, async (request, reply) => {
      const problem = customerIdProblem(request.params.id);
      if (problem) return reply.code(400).send({ error: 'bad_request', message: problem });
      return scorer.score(request.params.id, model);
    });
  }

  app.post<{ Params: { name: string; version: string } }>('/v1/models/:name/versions/:version', async (request, reply) => {
    const { name, version } = request.params;
    if (!isModelName(name)) {
      return reply.code(404).send({ error: 'not_found', message: `unknown model ${JSON.stringify(name)}: this service serves ${MODEL_NAMES.join(', ')}` });
    }
    const problem = modelVersionProblem(version);
    if (problem) return reply.code(400).send({ error: 'bad_request', message: problem });
    const { previousVersion, invalidated } = await scorer.deploy(name, version);
    if (!invalidated) request.log.warn({ model: name }, 'cached predictions not invalidated (cache unavailable); they will not be served: they carry the old version');
    return { model: name, version, previousVersion, invalidated };
  });

  app.get('/healthz', async (_request, reply) => {
    const stats = await cache.stats();
    const body = {
      status: stats.status,
      backend: stats.backend,
      ...(stats.error === undefined ? {} : { error: stats.error }),
      latencyMs: stats.latencyMs,
      hitRate: stats.process.hitRate,
    };
    return reply.code(stats.status === 'healthy' ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  return app;
}
