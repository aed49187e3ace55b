// Secrets never appear in output: the CLI's config (human and --json), error messages, error and
// degraded events, the logger's output, stack traces and the serialized configuration. Against a
// real redis-server that requires a password.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { freePort, startRedisServer, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type CacheLogger } from '../cache.js';
import { resolveConfig } from '../config.js';
import { FinRiskCacheError } from '../errors.js';

// Characters that URLs must encode, so that both the raw and the encoded forms are looked for.
const SERVER_PASSWORD = 'Srv-p@ss:w/rd%21-7Yq';
const WRONG_URL_PASSWORD = 'Url-Wr0ng-p@ss-3Kd';
const WRONG_ENV_PASSWORD = 'Env-Wr0ng-pass-9Tz';
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const SECRETS = [SERVER_PASSWORD, WRONG_URL_PASSWORD, WRONG_ENV_PASSWORD, ENCRYPTION_KEY];
const cliBin = fileURLToPath(new URL('../../../../apps/finrisk-cache/dist/finrisk-cache.js', import.meta.url));

/** Every form a secret could take in output: raw, URL-encoded, and the long pieces around an `@` or `/`. */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), ...secret.split(/[@/:%]/).filter((piece) => piece.length >= 4)];
}

function expectNoSecret(what: string, text: string): void {
  for (const secret of SECRETS) {
    for (const form of forms(secret)) expect(text, `${what} shows a secret (${form})`).not.toContain(form);
  }
}

function runBinary(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', ...env },
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

let server: RedisServer;
const goodUrl = () => `redis://:${encodeURIComponent(SERVER_PASSWORD)}@127.0.0.1:${server.port}/0`;
const badUrl = () => `redis://:${encodeURIComponent(WRONG_URL_PASSWORD)}@127.0.0.1:${server.port}/0`;

beforeAll(async () => {
  server = await startRedisServer({ args: ['--requirepass', SERVER_PASSWORD], password: SERVER_PASSWORD });
});
afterAll(() => server.stop());

describe('secrets are masked', () => {
  it('in the serialized configuration', () => {
    const config = resolveConfig({
      envFile: false,
      env: { REDIS_URL: goodUrl(), REDIS_PASSWORD: SERVER_PASSWORD, CACHE_ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY}` },
    });
    expectNoSecret('JSON.stringify(config)', JSON.stringify(config));
    expectNoSecret('inspect(config)', inspect(config, { depth: 10 }));
    // The secrets are still there for the connection to use.
    expect(config.password).toBe(SERVER_PASSWORD);
    expect(config.url).toBe(goodUrl());
  });

  it('in events, errors, stacks, logs and health checks of a cache with the wrong password', async () => {
    const logged: string[] = [];
    const logger: CacheLogger = { warn: (m) => logged.push(m), error: (m) => logged.push(m), debug: (m) => logged.push(m) };
    const output: string[] = [];
    for (const strict of [false, true]) {
      const cache = createCache({
        backend: 'redis', strict, envFile: false, logger, connectTimeoutMs: 500,
        env: { REDIS_URL: badUrl(), REDIS_PASSWORD: WRONG_ENV_PASSWORD, CACHE_ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY}` },
      });
      cache.on('error', (e) => output.push(e.error.message, String(e.error.stack), inspect(e, { depth: 10 })));
      cache.on('degraded', (e) => output.push(e.error.message, String(e.error.stack), inspect(e, { depth: 10 })));
      try {
        const thrown: unknown[] = [];
        for (const call of [() => cache.get('k'), () => cache.set('k', 1), () => cache.getMany(['a', 'b'])]) {
          try {
            await call();
          } catch (error) {
            thrown.push(error);
          }
        }
        expect(thrown).toHaveLength(strict ? 3 : 0);
        for (const error of thrown) {
          expect(FinRiskCacheError.hasCode(error, 'E_REDIS_UNAVAILABLE')).toBe(true);
          output.push((error as Error).message, String((error as Error).stack), inspect(error, { depth: 10 }));
        }
        const check = await cache.checkConnection();
        expect(check.ok).toBe(false);
        output.push(JSON.stringify(check), JSON.stringify(await cache.stats()), JSON.stringify(cache.config), inspect(cache, { depth: 5 }));
      } finally {
        await cache.close();
      }
    }
    expect(output.join('\n')).toMatch(/WRONGPASS/);
    expect(logged.join('\n')).toMatch(/WRONGPASS/);
    expectNoSecret('events, errors and health checks', output.join('\n'));
    expectNoSecret('the logger', logged.join('\n'));
  });

  it('in the fallback warning of backend auto', async () => {
    const warnings: string[] = [];
    const cache = createCache({
      backend: 'auto', url: `redis://:${encodeURIComponent(WRONG_URL_PASSWORD)}@127.0.0.1:${await freePort()}`, password: WRONG_ENV_PASSWORD,
      envFile: false, env: {}, connectTimeoutMs: 300, localPath: `${server.dir}/fallback.db`, logger: { warn: (m) => warnings.push(m) },
    });
    try {
      expect(await cache.set('k', 1)).toBe(true);
    } finally {
      await cache.close();
    }
    expect(warnings).toHaveLength(1);
    expectNoSecret('the fallback warning', warnings[0]!);
  });

  it('in configuration errors, even for a URL the parser rejects or a malformed key', () => {
    const messages: string[] = [];
    const outcomes: string[] = [];
    for (const env of [
      { REDIS_URL: `redis://app:${WRONG_URL_PASSWORD}@127.0.0.1:notaport` },
      { REDIS_URL: `redis://app:${SERVER_PASSWORD}@127.0.0.1:6379` },
      { REDIS_URL: `http://app:${encodeURIComponent(SERVER_PASSWORD)}@127.0.0.1:6379` },
      { CACHE_ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY.slice(0, 20)}` },
    ]) {
      try {
        resolveConfig({ envFile: false, env });
        outcomes.push('accepted');
      } catch (error) {
        outcomes.push(FinRiskCacheError.isInstance(error) ? error.code : String(error));
        messages.push((error as Error).message, String((error as Error).stack));
      }
    }
    // Each one is malformed (a port that is no number, a password with a bare '@' and '/', a scheme
    // that is not Redis, a short key) and refused, so every message is looked at below.
    expect(outcomes).toEqual(['E_INVALID_CONFIG', 'E_INVALID_CONFIG', 'E_INVALID_CONFIG', 'E_INVALID_CONFIG']);
    expectNoSecret('configuration errors', messages.join('\n'));
  });

  // Nine runs of the CLI binary, about 0.6 s of CPU each: sequential they took over the 30 s
  // default on a loaded two-core machine (5 s each at a load of 12). They are independent, so they
  // run side by side, and the test's bound is set for a loaded machine.
  it('in the CLI: config (human and --json), check, and --debug stack traces', { timeout: 120_000 }, async () => {
    expect(existsSync(cliBin), `${cliBin} is missing: run pnpm build first`).toBe(true);
    const good = { REDIS_URL: goodUrl(), REDIS_PASSWORD: SERVER_PASSWORD, CACHE_BACKEND: 'redis', CACHE_ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY}`, CACHE_COMMAND_TIMEOUT_MS: '5000' };
    const bad = { REDIS_URL: badUrl(), REDIS_PASSWORD: WRONG_ENV_PASSWORD, CACHE_BACKEND: 'redis', CACHE_ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY}` };
    const badArgs = [['check'], ['--json', 'check'], ['--debug', 'check'], ['--debug', 'get-pred', 'C1', 'credit'], ['--debug', 'stats'], ['--debug', '--json', 'config']];
    const [human, json, ok, ...failed] = await Promise.all([
      runBinary(['config'], good),
      runBinary(['--json', 'config'], good),
      runBinary(['check'], good),
      ...badArgs.map((args) => runBinary(args, bad)),
    ]);
    expect(human!.code).toBe(0);
    expect(human!.out).toMatch(/REDIS_PASSWORD\s+\*\*\*/);
    expect(json!.code).toBe(0);
    expect(JSON.parse(json!.out).settings.find((r: { variable: string }) => r.variable === 'REDIS_URL').value).toContain(':***@');
    expect(ok!.code).toBe(0);
    const outputs = [human!.out, json!.out, ok!.out, ...failed.map((result) => result.out)];
    expect(outputs.join('\n')).toMatch(/WRONGPASS/);
    expectNoSecret('CLI output', outputs.join('\n'));
  });
});
