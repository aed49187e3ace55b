import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createCache, type Cache } from '@finrisk/cache-core';
import { createFrameCache } from '@finrisk/cache-frames';
import { createMlCache } from '@finrisk/cache-ml';
import { aclSetUser, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { until } from '@finrisk/test-utils/fixtures';
import * as aq from 'arquero';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.js';
import { LOOKUP_MAX_BYTES, LOOKUP_MAX_PREDICTIONS } from './customer-view.js';
import { PREVIEW_MAX_BYTES, PREVIEW_MAX_COLUMNS } from './frames-view.js';
import { CONTENT_SECURITY_POLICY } from './http-server.js';
import { MAX_CENSUS_KINDS, OTHER_KEY_KINDS } from './key-census.js';
import { FAST, running, startDashboard, type TestDashboard } from './test-dashboard.js';

// The dashboard's HTTP side in-process (runCli), against a throwaway redis-server: the API the
// page uses, its headers, read-only and --allow-writes, the token, and what it never shows.
// The page itself, in a browser, is tested in apps/finrisk-cache (dashboard.integration.test.ts).

let server: RedisServer;
let seeder: Cache;
const prefix = uniquePrefix('dashboard');
const env = () => ({ REDIS_URL: server.url, CACHE_KEY_PREFIX: prefix });
const WIDE_ROWS = 120;

beforeAll(async () => {
  server = await startRedisServer();
  seeder = createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, statsPublish: false });
  const ml = createMlCache(seeder);
  expect(await ml.cacheModelPrediction('C1', 'credit', { risk_score: 0.75, decision: 'approve' })).toBe(true);
  expect(await ml.cacheModelPrediction('C1', 'fraud', { fraud_probability: 0.1 })).toBe(true);
  expect(await ml.cacheFeatures('C1', { age: 35, note: '<img src=x onerror=alert(1)>', when: new Date('2024-01-02T00:00:00Z') })).toBe(true);
  expect(await ml.cacheModelArtifacts('credit_risk', 'v1', { weights: [1, 2, 3] })).toBe(true);
  const frames = createFrameCache(seeder);
  const ids = Array.from({ length: WIDE_ROWS }, (_, i) => i);
  expect(await frames.cacheDataFrame('wide', aq.table({ id: ids, note: ids.map((i) => (i === 0 ? '<b>bold</b>' : `row ${i}`)) }))).toBe(true);
});

afterAll(async () => {
  await seeder?.close();
  await server?.stop();
});

async function get(dashboard: TestDashboard, path: string, headers: Record<string, string> = {}) {
  return fetch(`${dashboard.base}${path}`, { headers, redirect: 'manual' });
}

/** The first events of an event stream, until `until` appears in them (or 20 s). */
async function readEvents(url: string, until: string, headers: Record<string, string> = {}): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  let text = '';
  try {
    const res = await fetch(url, { headers, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes(until)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return text;
}

describe('read-only on loopback', () => {
  let dashboard: TestDashboard;
  beforeAll(async () => {
    dashboard = running(await startDashboard(FAST, env()));
  });
  afterAll(async () => {
    expect(await dashboard?.stop()).toBe(ExitCode.OK);
  });

  it('prints its URL first, with no token on loopback', () => {
    expect(dashboard.url).toBe(`http://127.0.0.1:${dashboard.port}/`);
    expect(dashboard.stderr()).toContain(`dashboard for ${server.url} on ${dashboard.base}/ (read-only)`);
    expect(dashboard.stderr()).toContain('(read-only)');
  });

  it('serves the page and uPlot itself, with a strict Content-Security-Policy', async () => {
    const page = await get(dashboard, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(await page.text()).toContain('<script src="/assets/uPlot.iife.min.js" defer></script>');
    const uplot = await get(dashboard, '/assets/uPlot.iife.min.js');
    expect(uplot.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await uplot.text()).toContain('var uPlot=function()');
    expect((await get(dashboard, '/assets/../../package.json')).status).toBe(404);
    expect((await get(dashboard, '/nothing')).status).toBe(404);
    expect((await fetch(`${dashboard.base}/api/state`, { method: 'DELETE' })).status).toBe(405);
  });

  it('samples the server and counts the keys per kind', async () => {
    const state = await until('two samples and a key count', async () => {
      const s = (await (await get(dashboard, '/api/state')).json()) as {
        info: Record<string, unknown>; samples: { status: string; keys: number; opsPerSec: number | null }[];
        census: { kinds: { kind: string; keys: number }[]; models: string[] } | null; topology: { kind: string } | null;
      };
      return s.samples.length >= 2 && s.census ? s : undefined;
    }, 20_000);
    expect(state.info).toMatchObject({ backend: 'redis', address: server.url, keyPrefix: prefix, allowWrites: false, refreshSeconds: 0.3 });
    expect(state.samples.at(-1)).toMatchObject({ status: 'healthy' });
    expect(state.samples.at(-1)!.opsPerSec).toBeGreaterThan(0);
    expect(state.topology).toMatchObject({ kind: 'single', address: server.url, status: 'healthy' });
    const kinds = Object.fromEntries(state.census!.kinds.map((k) => [k.kind, k.keys]));
    expect(kinds).toMatchObject({ prediction: 2, feature: 1, model: 1 });
    expect(state.census!.models).toEqual(['credit_risk']);
  });

  it('looks a customer up as inspect does, with the values as text', async () => {
    const res = await get(dashboard, '/api/customer?id=C1');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { customer: string; entries: { kind: string; model: string | null; state: string; ttlSeconds: number; fields: { name: string; text: string }[] }[] };
    expect(body.entries.map((e) => [e.kind, e.model, e.state])).toEqual([['prediction', 'credit', 'fresh'], ['prediction', 'fraud', 'fresh'], ['feature', null, 'fresh']]);
    expect(body.entries[0]!.fields).toEqual([{ name: 'risk_score', text: '0.75' }, { name: 'decision', text: 'approve' }]);
    // Features carry each one's age (seconds since it was written), for the page's Age column.
    const age = expect.any(Number) as unknown as number;
    expect(body.entries[2]!.fields).toEqual([
      { name: 'age', text: '35', ageSeconds: age },
      { name: 'note', text: '<img src=x onerror=alert(1)>', ageSeconds: age },
      { name: 'when', text: '2024-01-02T00:00:00.000Z', ageSeconds: age },
    ]);
    expect(body.entries.every((e) => e.ttlSeconds > 0)).toBe(true);
    expect((await (await get(dashboard, '/api/customer?id=NOBODY')).json()) as unknown).toEqual({ customer: 'NOBODY', entries: [], valuesOmitted: 0, entriesOmitted: 0, limitBytes: LOOKUP_MAX_BYTES });
    const bad = await get(dashboard, `/api/customer?id=${encodeURIComponent('x'.repeat(600))}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('E_INVALID_KEY');
    expect((await get(dashboard, '/api/customer')).status).toBe(400);
  });

  it('says which entry is corrupt, and why', async () => {
    server.cli('SET', `${prefix}:feature:BROKEN`, 'not an envelope');
    const body = (await (await get(dashboard, '/api/customer?id=BROKEN')).json()) as { entries: { kind: string; state: string; error?: { code: string } }[] };
    expect(body.entries).toEqual([expect.objectContaining({ kind: 'feature', state: 'corrupt', error: expect.objectContaining({ code: 'E_PAYLOAD_CORRUPT' }) })]);
  });

  it('lists the frames and previews one: schema and the first 50 rows', async () => {
    const list = (await (await get(dashboard, '/api/frames')).json()) as { frames: { name: string; rows: number; columns: number; ttlSeconds: number }[] };
    expect(list.frames).toEqual([expect.objectContaining({ name: 'wide', rows: WIDE_ROWS, columns: 2 })]);
    expect(list.frames[0]!.ttlSeconds).toBeGreaterThan(0);
    const res = await get(dashboard, '/api/frame?name=wide');
    const { frame } = (await res.json()) as { frame: { rows: number; columns: { name: string; type: string }[]; preview: string[][] } };
    expect(frame.rows).toBe(WIDE_ROWS);
    expect(frame.columns.map((c) => [c.name, c.type])).toEqual([['id', 'int32'], ['note', 'utf8']]);
    expect(frame.preview).toHaveLength(50);
    expect(frame.preview[0]).toEqual(['0', '<b>bold</b>']);
    expect(frame.preview[49]).toEqual(['49', 'row 49']);
    expect((await get(dashboard, '/api/frame?name=missing')).status).toBe(404);
  });

  it('streams the state, then every sample', async () => {
    const text = await readEvents(`${dashboard.base}/api/events`, 'event: sample');
    expect(text).toMatch(/^retry: 2000\n\nevent: state\ndata: \{"info":/);
    expect(text).toMatch(/event: sample\ndata: \{"t":\d+/);
  });

  it('offers no clear: a POST is refused and nothing is deleted', async () => {
    const res = await fetch(`${dashboard.base}/api/clear`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: dashboard.base },
      body: JSON.stringify({ target: 'predictions', name: 'C1', confirm: 'C1' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_READ_ONLY');
    expect(server.cli('EXISTS', `${prefix}:prediction:C1:credit`)).toBe('1');
  });

  it('answers only to a Host that names this machine (no DNS rebinding)', async () => {
    // fetch sets Host from the URL, so the request is made with node:http instead.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: dashboard.port, path: '/api/state', headers: { Host: `attacker.example:${dashboard.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('bounds on what a request, a record or a key costs', () => {
  const bounded = uniquePrefix('dashboard-bounds');
  let dashboard: TestDashboard;
  beforeAll(async () => {
    const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: bounded, envFile: false, env: {}, statsPublish: false, commandTimeoutMs: 10_000 });
    try {
      const ml = createMlCache(cache);
      // 12 values of 500 fields x 300 characters: about 2 MB as the page shows them.
      for (let m = 0; m < 12; m++) {
        const value = Object.fromEntries(Array.from({ length: 500 }, (_, f) => [`f${f}`, `${m}`.padEnd(300, 'v')]));
        expect(await ml.cacheModelPrediction('WIDE', `m${String(m).padStart(2, '0')}`, value)).toBe(true);
      }
      for (let m = 0; m < LOOKUP_MAX_PREDICTIONS + 5; m++) expect(await ml.cacheModelPrediction('MANY', `m${String(m).padStart(3, '0')}`, { score: m })).toBe(true);
      const frames = createFrameCache(cache, { compression: 'deflate' });
      // 36 MB of float64 zeros: a few hundred KB stored, over PREVIEW_MAX_BYTES once inflated.
      expect(await frames.cacheDataFrame('inflates', aq.table({ x: new Float64Array(4_500_000) }))).toBe(true);
      expect((await frames.getDataFrameInfo('inflates'))!.bytes).toBeLessThan(PREVIEW_MAX_BYTES / 8);
      const columns = Object.fromEntries(Array.from({ length: 150 }, (_, c) => [`c${c}`, [c, c + 1, c + 2]]));
      expect(await frames.cacheDataFrame('columns150', aq.table(columns))).toBe(true);
      // Keys of 105 kinds (a kind is a key's first part: whoever writes keys names it).
      server.cli('MSET', ...Array.from({ length: 105 }, (_, i) => [`${bounded}:kind${i}:x`, '1']).flat());
    } finally {
      await cache.close();
    }
    dashboard = running(await startDashboard(FAST, { REDIS_URL: server.url, CACHE_KEY_PREFIX: bounded }));
  }, 120_000);
  afterAll(async () => {
    await dashboard?.stop();
  });

  it('answers a lookup within LOOKUP_MAX_BYTES: the values past it are listed, not sent, and the answer says so', async () => {
    const res = await get(dashboard, '/api/customer?id=WIDE');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(LOOKUP_MAX_BYTES);
    const body = JSON.parse(text) as { entries: { model: string; fields: unknown[]; valueOmitted?: true }[]; valuesOmitted: number; entriesOmitted: number; limitBytes: number };
    expect(body.entries.map((e) => e.model)).toEqual(Array.from({ length: 12 }, (_, m) => `m${String(m).padStart(2, '0')}`));
    const omitted = body.entries.filter((e) => e.valueOmitted);
    expect(omitted.length).toBeGreaterThan(0);
    expect(body.valuesOmitted).toBe(omitted.length);
    expect(omitted.every((e) => e.fields.length === 0)).toBe(true);
    // The first entries are whole: 500 fields each.
    expect(body.entries[0]!.fields).toHaveLength(500);
    expect(body).toMatchObject({ entriesOmitted: 0, limitBytes: LOOKUP_MAX_BYTES });
  });

  it(`lists at most ${LOOKUP_MAX_PREDICTIONS} predictions of a customer, and counts the others`, async () => {
    const body = (await (await get(dashboard, '/api/customer?id=MANY')).json()) as { entries: unknown[]; entriesOmitted: number; valuesOmitted: number };
    expect(body.entries).toHaveLength(LOOKUP_MAX_PREDICTIONS);
    expect(body).toMatchObject({ entriesOmitted: 5, valuesOmitted: 0 });
  });

  it('refuses to preview a frame larger than PREVIEW_MAX_BYTES once inflated, from its manifest', async () => {
    const res = await get(dashboard, '/api/frame?name=inflates');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tooLarge: boolean; bytes: number; limitBytes: number };
    expect(body).toMatchObject({ tooLarge: true, limitBytes: PREVIEW_MAX_BYTES });
    expect(body.bytes).toBeLessThan(PREVIEW_MAX_BYTES / 8);
  });

  it(`previews the first ${PREVIEW_MAX_COLUMNS} columns of a wider frame, and says how many it has`, async () => {
    const { frame } = (await (await get(dashboard, '/api/frame?name=columns150')).json()) as { frame: { totalColumns: number; columns: { name: string }[]; preview: string[][] } };
    expect(frame.totalColumns).toBe(150);
    expect(frame.columns).toHaveLength(PREVIEW_MAX_COLUMNS);
    expect(frame.columns.at(-1)!.name).toBe(`c${PREVIEW_MAX_COLUMNS - 1}`);
    expect(frame.preview).toEqual([0, 1, 2].map((r) => Array.from({ length: PREVIEW_MAX_COLUMNS }, (_, c) => String(c + r))));
  });

  it(`counts at most ${MAX_CENSUS_KINDS} kinds of keys apart, the others together`, async () => {
    const census = await until('a key count', async () => ((await (await get(dashboard, '/api/state')).json()) as { census: { kinds: { kind: string; keys: number }[] } | null }).census, 20_000);
    expect(census.kinds).toHaveLength(MAX_CENSUS_KINDS + 1);
    const total = census.kinds.reduce((n, k) => n + k.keys, 0);
    const other = census.kinds.find((k) => k.kind === OTHER_KEY_KINDS)!;
    expect(other.keys).toBeGreaterThan(0);
    // Every key counted once: 105 forged, 12 + 205 predictions, 2 frames' manifests and chunks (and the model generation tokens).
    expect(total).toBe(Number(server.cli('EVAL', `return #redis.call('KEYS', ARGV[1])`, '0', `${bounded}:*`)));
  });
});

describe('--allow-writes', () => {
  let dashboard: TestDashboard;
  beforeAll(async () => {
    dashboard = running(await startDashboard([...FAST, '--allow-writes'], env()));
  });
  afterAll(async () => {
    await dashboard?.stop();
  });

  const clear = (body: unknown, origin: string | null = dashboard.base) =>
    fetch(`${dashboard.base}/api/clear`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(origin ? { Origin: origin } : {}) },
      body: JSON.stringify(body),
    });

  it('says so, and refuses a clear from another origin or with a confirmation that differs', async () => {
    expect(dashboard.stderr()).toContain('(clears allowed)');
    expect(((await (await get(dashboard, '/api/state')).json()) as { info: { allowWrites: boolean } }).info.allowWrites).toBe(true);
    expect((await clear({ target: 'predictions', name: 'C1', confirm: 'C1' }, 'http://attacker.example')).status).toBe(403);
    expect((await clear({ target: 'predictions', name: 'C1', confirm: 'C1' }, null)).status).toBe(403);
    const mismatch = await clear({ target: 'predictions', name: 'C1', confirm: 'c1' });
    expect(mismatch.status).toBe(400);
    expect(((await mismatch.json()) as { error: { message: string } }).error.message).toContain('type "C1" exactly');
    expect(server.cli('EXISTS', `${prefix}:prediction:C1:credit`)).toBe('1');
  });

  it("clears a customer's predictions and features, a model's artifacts and a frame", async () => {
    const ok = async (body: { target: string; name: string }) => {
      const res = await clear({ ...body, confirm: body.name });
      expect(res.status).toBe(200);
      return (await res.json()) as { ok: boolean; deleted: number; scope: string };
    };
    expect(await ok({ target: 'predictions', name: 'C1' })).toEqual({ ok: true, deleted: 2, scope: 'predictions of C1' });
    expect(server.cli('EXISTS', `${prefix}:prediction:C1:credit`, `${prefix}:prediction:C1:fraud`)).toBe('0');
    expect(await ok({ target: 'features', name: 'C1' })).toEqual({ ok: true, deleted: 1, scope: 'features of C1' });
    expect(server.cli('EXISTS', `${prefix}:feature:C1`)).toBe('0');
    expect(await ok({ target: 'model', name: 'credit_risk' })).toEqual({ ok: true, deleted: 1, scope: 'artifacts of model credit_risk' });
    expect(server.cli('EXISTS', `${prefix}:model:credit_risk:v1`)).toBe('0');
    expect(await ok({ target: 'frame', name: 'wide' })).toEqual({ ok: true, deleted: 1, scope: 'data frame wide' });
    expect(server.cli('--scan', '--pattern', `${prefix}:dataframe:*`)).toBe('');
  });
});

describe('off loopback', () => {
  it('generates a token, prints it in the URL, and answers 401 without it: page, API and event stream', async () => {
    const dashboard = running(await startDashboard([...FAST, '--host', '0.0.0.0'], env()));
    try {
      const token = new URL(dashboard.url).searchParams.get('token')!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const local = `http://127.0.0.1:${dashboard.port}`;
      for (const path of ['/', '/api/state', '/api/events', '/assets/page.js', '/api/customer?id=C1']) {
        const res = await fetch(`${local}${path}`);
        expect(res.status, path).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="finrisk-cache dashboard"');
        expect(await res.text()).not.toContain(token);
      }
      expect((await fetch(`${local}/api/state`, { headers: { Authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
      expect((await fetch(`${local}/api/state`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
      // The page's first load trades ?token= for a cookie and drops it from the address.
      const first = await fetch(`${local}/?token=${token}`, { redirect: 'manual' });
      expect(first.status).toBe(303);
      expect(first.headers.get('location')).toBe('/');
      const cookie = first.headers.get('set-cookie')!;
      expect(cookie).toMatch(new RegExp(`^finrisk_dashboard_${dashboard.port}=${token}; Path=/; HttpOnly; SameSite=Strict$`));
      const session = { Cookie: cookie.split(';')[0]! };
      expect((await fetch(`${local}/`, { headers: session })).status).toBe(200);
      expect(await readEvents(`${local}/api/events`, 'event: state', session)).toContain('event: state');
      expect((await fetch(`${local}/?token=wrong-token-wrong-token`, { redirect: 'manual' })).status).toBe(401);
    } finally {
      await dashboard.stop();
    }
  });

  it('takes the token from FINRISK_DASHBOARD_TOKEN, and refuses a short one', async () => {
    const token = 'a-token-from-the-environment';
    const dashboard = running(await startDashboard([...FAST, '--host', '0.0.0.0'], { ...env(), FINRISK_DASHBOARD_TOKEN: token }));
    try {
      expect(new URL(dashboard.url).searchParams.get('token')).toBe(token);
      expect((await fetch(`http://127.0.0.1:${dashboard.port}/api/state`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await dashboard.stop();
    }
    const short = await startDashboard([...FAST, '--host', '0.0.0.0', '--token', 'short'], env());
    expect(short).toMatchObject({ exited: ExitCode.USAGE, stdout: '' });
    expect((short as { stderr: string }).stderr).toContain('the dashboard token must be at least 16 characters');
  });
});

describe('starting and stopping', () => {
  it('exits 2 naming the port when it is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await startDashboard([...FAST, '--port', String(port)], env());
      expect(result).toMatchObject({ exited: ExitCode.USAGE, stdout: '' });
      expect((result as { stderr: string }).stderr).toContain(`the dashboard cannot listen on 127.0.0.1:${port}: the port is in use; choose another with --port (EADDRINUSE)`);
    } finally {
      blocker.close();
    }
  });

  it('refuses a pace that would poll Redis in a tight loop', async () => {
    const result = await startDashboard(['--refresh', '0.01'], env());
    expect(result).toMatchObject({ exited: ExitCode.USAGE, stdout: '' });
    expect((result as { stderr: string }).stderr).toContain('--refresh must be from 0.1 to 3600');
  });

  it('stops on the signal: the event streams end, the port closes, exit 0', async () => {
    const dashboard = running(await startDashboard(FAST, env()));
    const res = await fetch(`${dashboard.base}/api/events`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    expect(await dashboard.stop()).toBe(ExitCode.OK);
    // The stream ends rather than hangs.
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
    await expect(fetch(`${dashboard.base}/api/state`)).rejects.toThrow();
  });

  it('shows the server down when Redis is unreachable, and keeps serving', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const closedPort = (blocker.address() as { port: number }).port;
    blocker.close();
    const dashboard = running(await startDashboard(FAST, { REDIS_URL: `redis://127.0.0.1:${closedPort}/0`, CACHE_CONNECT_TIMEOUT_MS: '300' }));
    try {
      const state = await until('a first sample', async () => {
        const s = (await (await get(dashboard, '/api/state')).json()) as { samples: { status: string; error: string | null }[] };
        return s.samples.length ? s : undefined;
      });
      expect(state.samples.at(-1)).toMatchObject({ status: 'unhealthy' });
      expect(state.samples.at(-1)!.error).toBeTruthy();
      expect((await get(dashboard, '/api/customer?id=C1')).status).toBe(503);
    } finally {
      await dashboard.stop();
    }
  });
});

describe('no secret appears', () => {
  it('neither the Redis password nor the encryption key, in the page, the API or the stream', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const key = randomBytes(32).toString('base64');
    const secured = await startRedisServer({ args: ['--requirepass', password], password });
    const dashboard = running(
      await startDashboard(FAST, {
        REDIS_URL: `redis://:${password}@127.0.0.1:${secured.port}/0`,
        CACHE_KEY_PREFIX: prefix,
        CACHE_ENCRYPTION_KEYS: `k1:${key}`,
        CACHE_ENCRYPT_KINDS: '*',
      }),
    );
    try {
      const bodies = [dashboard.stdout(), dashboard.stderr()];
      await until('a key count', async () => ((await (await get(dashboard, '/api/state')).json()) as { census: unknown }).census, 20_000);
      for (const path of ['/', '/assets/page.js', '/api/state', '/api/customer?id=C1', '/api/frames']) bodies.push(await (await get(dashboard, path)).text());
      bodies.push(await readEvents(`${dashboard.base}/api/events`, 'event: sample'));
      const all = bodies.join('\n');
      expect(all).toContain(`redis://:***@127.0.0.1:${secured.port}/0`);
      expect(all).not.toContain(password);
      expect(all).not.toContain(key);
      expect(all).not.toContain(Buffer.from(key, 'base64').toString('hex'));
    } finally {
      await dashboard.stop();
      await secured.stop();
    }
  });
});

describe('under a least-privilege ACL user', () => {
  it('the read-only dashboard needs PING, INFO, DBSIZE, SCAN, GET, MGET, PTTL and ZRANGEBYSCORE: nothing is denied', async () => {
    // SECURITY.md's `dashboard` recipe for this server (+client|setinfo from Redis 7.2 on, and on Valkey).
    expect(server.cli(...aclSetUser('dashboard', server.identity(), { name: 'dash-ro', password: 'dash-ro-password' }, { prefix }))).toBe('OK');
    const ml = createMlCache(seeder);
    expect(await ml.cacheModelPrediction('ACL1', 'credit', { risk_score: 0.5 })).toBe(true);
    expect(await ml.cacheFeatures('ACL1', { age: 50 })).toBe(true);
    expect(await createFrameCache(seeder).cacheDataFrame('acl_frame', aq.table({ a: [1, 2, 3] }))).toBe(true);
    server.cli('ACL', 'LOG', 'RESET');
    const dashboard = running(await startDashboard(FAST, { REDIS_URL: `redis://dash-ro:dash-ro-password@127.0.0.1:${server.port}/0`, CACHE_KEY_PREFIX: prefix }));
    try {
      await until('samples, a key count and a fleet read', async () => {
        const s = (await (await get(dashboard, '/api/state')).json()) as { samples: { status: string }[]; census: { error: string | null } | null; fleet: { error: string | null } | null };
        return s.samples.filter((sample) => sample.status === 'healthy').length >= 2 && s.census && s.fleet ? s : undefined;
      }, 20_000);
      const customer = (await (await get(dashboard, '/api/customer?id=ACL1')).json()) as { entries: { state: string }[] };
      expect(customer.entries.map((e) => e.state)).toEqual(['fresh', 'fresh']);
      expect(((await (await get(dashboard, '/api/frames')).json()) as { frames: { name: string }[] }).frames.map((f) => f.name)).toContain('acl_frame');
      expect(((await (await get(dashboard, '/api/frame?name=acl_frame')).json()) as { frame: { preview: string[][] } }).frame.preview).toEqual([['1'], ['2'], ['3']]);
      const state = (await (await get(dashboard, '/api/state')).json()) as { samples: { status: string }[]; census: { error: string | null }; fleet: { error: string | null } };
      expect(state.samples.at(-1)!.status).toBe('healthy');
      expect(state.census.error).toBeNull();
      expect(state.fleet.error).toBeNull();
      expect(server.cli('ACL', 'LOG')).toBe('');
    } finally {
      await dashboard.stop();
      server.cli('ACL', 'DELUSER', 'dash-ro');
    }
  });
});
