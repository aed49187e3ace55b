// Every library the peer benchmark runs, each set up once here, so that the main process, the
// coherence writer and the memory probe build exactly the same thing. A contender is a library in
// one setting: the SDK (createCache, and cache-ml predictions), the hand-written node-redis
// baseline, and each peer as its README recommends plus its fastest setting.
// Each library is imported when a contender of it is created, so that a child process (the
// coherence writer, the memory probe) loads only the library it measures.
import type { Cache } from '@finrisk/cache-core';
import type { BentoCache, bentostore } from 'bentocache';
import type { Cacheable } from 'cacheable';
import type { Keyv } from 'keyv';

/** The value every library stores and reads: a prediction, as the SDK's benches use. */
export interface Prediction {
  risk_score: number;
  decision: string;
  confidence: number;
  model_version: string;
}

/** A fresh prediction object (a library that holds references must not share one across entries). */
export const makePrediction = (): Prediction => ({ risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' });

/** Every write carries this TTL, whatever the library (the SDK's prediction TTL). */
export const TTL_SECONDS = 3600;

/** What a workload calls on a library. Values are what the library hands back: `undefined` or `null` is a miss. */
export interface Instance {
  get(key: string): Promise<unknown>;
  /** True when the library says the value was stored. */
  set(key: string, value: object): Promise<boolean>;
  /** The library's read-through call, or undefined when it has none (cache-core, node-redis). */
  readThrough: ((key: string, compute: () => Promise<Prediction>) => Promise<unknown>) | undefined;
  /** Errors the library reported without throwing (error events, error logs), drained by the harness. */
  readonly reported: string[];
  close(): Promise<void>;
}

/** How a contender is set up. */
export interface Contender {
  /** Short id, used in keys, child-process arguments and the JSON. */
  id: string;
  /** Column label: library and setting. */
  label: string;
  /** `sdk` rows are the numerators of the ratios; `baseline` is the hand-written client. */
  role: 'sdk' | 'baseline' | 'peer';
  /** Whether this setting has an in-process tier (L1). */
  l1: boolean;
  /** How it is configured, in one line for the report. */
  setup: string;
  create(options: CreateOptions): Promise<Instance>;
}

/** Where and how big. */
export interface CreateOptions {
  url: string;
  /** Key prefix or namespace, so that two contenders never share a key. */
  prefix: string;
  /** Entries every L1 must be able to hold (the working set of the largest workload). */
  l1Entries: number;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/** bentocache logs what it swallows (a failed L2 read or write, a bus error); a log at warn or above is an error here. */
function recordingLogger(sink: string[]) {
  const logger = {
    trace() {},
    debug() {},
    info() {},
    warn: (...args: unknown[]) => void sink.push(`warn: ${describeLog(args)}`),
    error: (...args: unknown[]) => void sink.push(`error: ${describeLog(args)}`),
    fatal: (...args: unknown[]) => void sink.push(`fatal: ${describeLog(args)}`),
    child: () => logger,
  };
  return logger;
}

function describeLog(args: unknown[]): string {
  return args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : (a as { err?: Error })?.err?.message ?? JSON.stringify(a))).join(' ').slice(0, 300);
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------------------------- the SDK

/** `l1`: off, on with its default kinds (what cache-ml needs), or on for every kind (createCache's plain keys are `kv`). */
async function sdkCache(options: CreateOptions, l1: false | 'default-kinds' | 'all-kinds'): Promise<{ cache: Cache; reported: string[] }> {
  const reported: string[] = [];
  const { createCache } = await import('@finrisk/cache-core');
  const cache = createCache({
    url: options.url,
    backend: 'redis',
    envFile: false,
    env: {},
    keyPrefix: options.prefix,
    statsPublish: false,
    // kinds '*' for createCache: its plain string keys are of the `kv` kind, which L1 does not hold by default.
    ...(l1 === 'all-kinds' ? { l1: { maxMb: 64, kinds: '*' as const } } : l1 ? { l1: { maxMb: 64 } } : {}),
  });
  cache.on('error', (e) => reported.push(`${e.operation}: ${e.error.code} ${e.error.message}`));
  await cache.connect();
  if (l1) {
    // L1 serves only once its invalidation channel is up; before that every read goes to Redis.
    for (let i = 0; cache.processStats().l1?.serving !== true; i++) {
      if (i > 1000) throw new Error('the SDK L1 did not start serving within 10 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return { cache, reported };
}

function sdkCore(l1: boolean): Contender {
  return {
    id: l1 ? 'sdk-core-l1' : 'sdk-core',
    label: `SDK createCache${l1 ? ', L1 on' : ''}`,
    role: 'sdk',
    l1,
    setup: `@finrisk/cache-core createCache, backend redis${l1 ? ', l1 { maxMb: 64, kinds: "*" }' : ' (L1 off, the default)'}; get(key) / set(key, value, { ttl })`,
    async create(options) {
      const { cache, reported } = await sdkCache(options, l1 && 'all-kinds');
      return {
        get: (key) => cache.get(key),
        set: (key, value) => cache.set(key, value, { ttl: TTL_SECONDS }),
        readThrough: undefined,
        reported,
        close: () => cache.close(),
      };
    },
  };
}

function sdkMl(l1: boolean): Contender {
  return {
    id: l1 ? 'sdk-ml-l1' : 'sdk-ml',
    label: `SDK cache-ml predictions${l1 ? ', L1 on' : ''}`,
    role: 'sdk',
    l1,
    setup: `@finrisk/cache-ml createMlCache over createCache${l1 ? ' with l1 { maxMb: 64 }' : ' (L1 off)'}; getCachedPrediction / cacheModelPrediction / getOrComputePrediction (model "credit")`,
    async create(options) {
      const { cache, reported } = await sdkCache(options, l1 && 'default-kinds');
      const { createMlCache } = await import('@finrisk/cache-ml');
      const ml = createMlCache(cache);
      return {
        get: (key) => ml.getCachedPrediction(key, 'credit'),
        set: (key, value) => ml.cacheModelPrediction(key, 'credit', value, { ttl: TTL_SECONDS }),
        readThrough: (key, compute) => ml.getOrComputePrediction(key, 'credit', compute, { ttl: TTL_SECONDS }),
        reported,
        close: () => cache.close(),
      };
    },
  };
}

// ---------------------------------------------------------------------------------- node-redis

/**
 * What the targets compare against: node-redis at its fastest (no per-command timeout,
 * sendCommand, which skips the typed wrappers, and the auto-pipelining of calls in flight) plus
 * JSON.stringify / JSON.parse of the same object.
 */
const handWritten: Contender = {
  id: 'node-redis',
  label: 'node-redis hand-written',
  role: 'baseline',
  l1: false,
  setup: '@redis/client createClient({ commandOptions: { timeout: 0 } }); sendCommand GET + JSON.parse, SET + JSON.stringify with PX',
  async create(options) {
    const { createClient } = await import('@redis/client');
    const client = createClient({ url: options.url, commandOptions: { timeout: 0 } });
    const reported: string[] = [];
    client.on('error', (e: Error) => reported.push(e.message));
    await client.connect();
    const px = String(TTL_SECONDS * 1000);
    return {
      async get(key) {
        const raw = await client.sendCommand<string | null>(['GET', `${options.prefix}:${key}`]);
        return raw === null ? null : JSON.parse(raw);
      },
      async set(key, value) {
        return String(await client.sendCommand(['SET', `${options.prefix}:${key}`, JSON.stringify(value), 'PX', px])) === 'OK';
      },
      readThrough: undefined,
      reported,
      close: () => client.close(),
    };
  },
};

// ---------------------------------------------------------------------------------- bentocache

type Bento = BentoCache<Record<string, ReturnType<typeof bentostore>>>;

function bentocacheContender(setting: 'recommended' | 'fastest', l1: boolean): Contender {
  const fastest = setting === 'fastest';
  const l1Text = fastest ? 'memoryDriver({ maxItems, serialize: false })' : "memoryDriver({ maxSize: '10mb', maxItems })";
  const id = `bentocache${fastest ? '-fast' : ''}${l1 ? '-l1' : ''}`;
  return {
    id,
    label: `bentocache ${setting}${l1 ? '' : ', L2 only'}`,
    role: 'peer',
    l1,
    setup: l1
      ? `bentostore().useL1Layer(${l1Text}).useL2Layer(redisDriver).useBus(redisBusDriver)${fastest ? ', ioredis enableAutoPipelining' : ''}`
      : `bentostore().useL2Layer(redisDriver) (no L1, no bus)${fastest ? ', ioredis enableAutoPipelining' : ''}`,
    async create(options) {
      const { BentoCache, bentostore } = await import('bentocache');
      const { memoryDriver } = await import('bentocache/drivers/memory');
      const { redisBusDriver, redisDriver } = await import('bentocache/drivers/redis');
      const reported: string[] = [];
      const connection = { ...hostPort(options.url), ...(fastest ? { enableAutoPipelining: true } : {}) };
      let store = bentostore();
      if (l1) {
        // maxItems defaults to 1,000: raised to the working set, so that no workload measures evictions.
        const maxItems = Math.max(1000, options.l1Entries);
        store = store.useL1Layer(memoryDriver(fastest ? { maxItems, serialize: false } : { maxSize: '10mb', maxItems }));
      }
      store = store.useL2Layer(redisDriver({ connection }));
      if (l1) store = store.useBus(redisBusDriver({ connection: hostPort(options.url) }));
      // The bus channel is named after the store: one store name per setting keeps the two bentocache
      // settings of this process from hearing (and paying for) each other's messages, while the
      // coherence writer, a process of the same setting, shares the reader's channel.
      const bento: Bento = new BentoCache({ default: id, prefix: options.prefix, stores: { [id]: store }, logger: recordingLogger(reported) });
      // Connects L2 (and subscribes the bus) before the first measured call.
      await bento.set({ key: '__warm', value: 1, ttl: '1m' });
      await bento.get({ key: '__warm' });
      return {
        get: (key) => bento.get({ key }),
        set: (key, value) => bento.set({ key, value, ttl: `${TTL_SECONDS}s` }),
        readThrough: (key, compute) => bento.getOrSet({ key, factory: compute, ttl: `${TTL_SECONDS}s` }),
        reported,
        close: () => bento.disconnectAll(),
      };
    },
  };
}

// ---------------------------------------------------------------------------------- cacheable

function cacheableContender(setting: 'recommended' | 'fastest', l1: boolean): Contender {
  const fastest = setting === 'fastest';
  return {
    id: `cacheable${fastest ? '-fast' : ''}${l1 ? '-l1' : ''}`,
    label: `cacheable ${setting}${l1 ? '' : ', Redis only'}`,
    role: 'peer',
    l1,
    setup: l1
      ? `new Cacheable({ ${fastest ? 'primary: createKeyv({ useClone: false }), ' : ''}secondary: new KeyvRedis(url), sync: { qified: new RedisMessageProvider({ uri }) } })`
      : 'new Cacheable({ primary: new Keyv({ store: new KeyvRedis(url) }) }) (Redis as its only store, no sync)',
    async create(options) {
      const reported: string[] = [];
      const onError = (e: unknown) => void reported.push(message(e));
      const { Cacheable, createKeyv } = await import('cacheable');
      const { default: KeyvRedis } = await import('@keyv/redis');
      const { Keyv } = await import('keyv');
      let cache: Cacheable;
      let provider: { connect(): Promise<void> } | undefined;
      if (l1) {
        const secondary = new KeyvRedis(options.url);
        const { RedisMessageProvider } = await import('@qified/redis');
        const messages = new RedisMessageProvider({ uri: options.url });
        provider = messages;
        cache = new Cacheable({
          // useClone: the README's `useClones` is not an option of CacheableMemory and would be ignored without a word.
          ...(fastest ? { primary: createKeyv({ useClone: false }) } : {}),
          secondary,
          namespace: options.prefix,
          ttl: `${TTL_SECONDS}s`,
          sync: { qified: messages },
        });
      } else {
        cache = new Cacheable({ primary: new Keyv({ store: new KeyvRedis(options.url) }), namespace: options.prefix, ttl: `${TTL_SECONDS}s` });
      }
      cache.on('error', onError);
      cache.primary.on('error', onError);
      cache.secondary?.on('error', onError);
      if (provider) await provider.connect();
      await cache.set('__warm', 1);
      await cache.get('__warm');
      return {
        get: (key) => cache.get(key),
        set: (key, value) => cache.set(key, value, `${TTL_SECONDS}s`),
        readThrough: (key, compute) => cache.getOrSet(key, compute, { ttl: `${TTL_SECONDS}s` }),
        reported,
        close: () => cache.disconnect(),
      };
    },
  };
}

// ---------------------------------------------------------------------------------- cache-manager

function cacheManagerContender(setting: 'recommended' | 'fastest', l1: boolean): Contender {
  const fastest = setting === 'fastest';
  return {
    id: `cache-manager${fastest ? '-fast' : ''}${l1 ? '-l1' : ''}`,
    label: `cache-manager ${setting}${l1 ? '' : ', Redis only'}`,
    role: 'peer',
    l1,
    setup: l1
      ? `createCache({ stores: [new Keyv({ store: new CacheableMemory({ ttl: 60000, lruSize${fastest ? ', useClone: false' : ''} }) }), new Keyv({ store: new KeyvRedis(url) })] }) (no cross-process sync)`
      : 'createCache({ stores: [new Keyv({ store: new KeyvRedis(url) })] })',
    async create(options) {
      const { CacheableMemory } = await import('cacheable');
      const { createCache: createCacheManager } = await import('cache-manager');
      const { default: KeyvRedis } = await import('@keyv/redis');
      const { Keyv } = await import('keyv');
      const reported: string[] = [];
      const onError = (e: unknown) => void reported.push(message(e));
      const stores: Keyv[] = [];
      if (l1) {
        // The README's lruSize is 5,000: raised to the working set when that is larger.
        const lruSize = Math.max(5000, options.l1Entries);
        // useClone, as for cacheable (not the README's `useClones`).
        stores.push(new Keyv({ store: new CacheableMemory({ ttl: 60_000, lruSize, ...(fastest ? { useClone: false } : {}) }) }));
      }
      stores.push(new Keyv({ store: new KeyvRedis(options.url), namespace: options.prefix }));
      for (const s of stores) s.on('error', onError);
      const cache = createCacheManager({ stores });
      const onEvent = ({ error }: { error?: unknown }) => {
        if (error !== undefined) onError(error);
      };
      cache.on('get', onEvent);
      cache.on('set', onEvent);
      await cache.set('__warm', 1, 60_000);
      await cache.get('__warm');
      return {
        get: (key) => cache.get(key),
        set: async (key, value) => (await cache.set(key, value, TTL_SECONDS * 1000)) !== undefined,
        readThrough: (key, compute) => cache.wrap(key, compute, TTL_SECONDS * 1000),
        reported,
        close: async () => {
          await cache.disconnect();
        },
      };
    },
  };
}

/** With L1 off (or the library's Redis layer alone): the rows of the Redis targets. */
export const REDIS_CONTENDERS: readonly Contender[] = [
  handWritten,
  sdkCore(false),
  sdkMl(false),
  bentocacheContender('recommended', false),
  bentocacheContender('fastest', false),
  cacheableContender('recommended', false),
  cacheManagerContender('recommended', false),
];

/** With an in-process tier: hot reads, writes through every layer, coherence, bytes per entry. */
export const L1_CONTENDERS: readonly Contender[] = [
  sdkCore(true),
  sdkMl(true),
  bentocacheContender('recommended', true),
  bentocacheContender('fastest', true),
  cacheableContender('recommended', true),
  cacheableContender('fastest', true),
  cacheManagerContender('recommended', true),
  cacheManagerContender('fastest', true),
];

export function contenderById(id: string): Contender {
  const found = [...REDIS_CONTENDERS, ...L1_CONTENDERS].find((c) => c.id === id);
  if (!found) throw new Error(`unknown contender ${id}`);
  return found;
}
