import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeRedisAddress, maskUrl, resolveConfig } from './config.js';
import { FinRiskCacheError } from './errors.js';

const none = { envFile: false as const, env: {} };

describe('resolveConfig', () => {
  it("has the guide's defaults", () => {
    const c = resolveConfig(none);
    expect(c).toMatchObject({ host: 'localhost', port: 6379, db: 0, backend: 'auto', keyPrefix: 'finrisk', keyLayout: 'finrisk' });
    expect(c.ttl).toEqual({ prediction: 3600, feature: 1800, model: 86400, dataframe: 7200, default: 1800 });
    expect(c.password).toBeUndefined();
    expect(c.sources.port).toBe('default');
    expect(c.commandTimeoutMs).toBeLessThan(1000);
  });

  it('reads the environment variables of the guide', () => {
    const c = resolveConfig({
      envFile: false,
      env: {
        REDIS_HOST: 'cache.internal', REDIS_PORT: '6380', REDIS_DB: '2', REDIS_PASSWORD: 'pw',
        CACHE_PREDICTION_TTL: '60', CACHE_FEATURE_TTL: '61', CACHE_MODEL_TTL: '62', CACHE_DATAFRAME_TTL: '63', CACHE_DEFAULT_TTL: '64',
        CACHE_KEY_PREFIX: 'risk', CACHE_BACKEND: 'redis', CACHE_KEY_LAYOUT: 'finrisk-python',
      },
    });
    expect(c).toMatchObject({ host: 'cache.internal', port: 6380, db: 2, password: 'pw', keyPrefix: 'risk', backend: 'redis', keyLayout: 'finrisk-python' });
    expect(c.ttl).toEqual({ prediction: 60, feature: 61, model: 62, dataframe: 63, default: 64 });
    expect(c.sources.port).toBe('environment');
  });

  it('lets options win over the environment, and the environment over .env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'finrisk-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'REDIS_PORT=7000\nREDIS_DB=3\nCACHE_DEFAULT_TTL=99\n# comment\nREDIS_HOST="from-file"\n');
    const c = resolveConfig({ envFile: file, env: { REDIS_DB: '4' }, port: 7001 });
    expect(c.port).toBe(7001);
    expect(c.sources.port).toBe('option');
    expect(c.db).toBe(4);
    expect(c.sources.db).toBe('environment');
    expect(c.ttl.default).toBe(99);
    expect(c.sources['ttl.default']).toBe('.env');
    expect(c.host).toBe('from-file');
    expect(c.envFile).toBe(file);
  });

  it.each([
    ['REDIS_PORT', 'abc'],
    ['REDIS_PORT', '70000'],
    ['REDIS_DB', '-1'],
    ['CACHE_PREDICTION_TTL', '-5'],
    ['CACHE_FEATURE_TTL', '0'],
    ['CACHE_MODEL_TTL', '1.5'],
    ['CACHE_BACKEND', 'mongo'],
    ['CACHE_KEY_LAYOUT', 'pickle'],
    ['REDIS_URL', 'http://x'],
    ['CACHE_STRICT', 'maybe'],
    ['CACHE_KEY_PREFIX', 'a:b'],
    ['CACHE_KEY_PREFIX', 'fin*'],
  ])('refuses %s=%s with an error naming the variable and the value', (variable, value) => {
    let error: unknown;
    try {
      resolveConfig({ envFile: false, env: { [variable]: value } });
    } catch (e) {
      error = e;
    }
    expect(FinRiskCacheError.hasCode(error, 'E_INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toContain(variable);
    expect((error as Error).message).toContain(value);
  });

  it('reads the scan and close deadlines (ms), with their defaults, and refuses bad ones naming the variable', () => {
    expect(resolveConfig(none)).toMatchObject({ scanTimeoutMs: 1000, closeTimeoutMs: 1000 });
    const c = resolveConfig({ envFile: false, env: { CACHE_SCAN_TIMEOUT_MS: '5000', CACHE_CLOSE_TIMEOUT_MS: '0' } });
    expect(c).toMatchObject({ scanTimeoutMs: 5000, closeTimeoutMs: 0 });
    expect(c.sources.scanTimeoutMs).toBe('environment');
    expect(resolveConfig({ ...none, scanTimeoutMs: 250, closeTimeoutMs: 50 })).toMatchObject({ scanTimeoutMs: 250, closeTimeoutMs: 50 });
    for (const [variable, value] of [['CACHE_SCAN_TIMEOUT_MS', '0'], ['CACHE_SCAN_TIMEOUT_MS', '2s'], ['CACHE_CLOSE_TIMEOUT_MS', '-1']] as const) {
      expect(() => resolveConfig({ envFile: false, env: { [variable]: value } })).toThrow(`${variable}="${value}" is invalid`);
    }
  });

  it('refuses CACHE_L1_KINDS naming a kind the SDK does not have, listing the known kinds', () => {
    for (const env of [{ CACHE_L1_KINDS: 'predictions' }, { CACHE_L1_KINDS: 'prediction,featurs' }, { CACHE_L1_KINDS: ',' }]) {
      expect(() => resolveConfig({ envFile: false, env })).toThrow(/CACHE_L1_KINDS=.* is invalid: expected .*prediction, feature, model, dataframe/);
    }
    expect(() => resolveConfig({ ...none, l1: { kinds: ['predictions'] } })).toThrow(/CACHE_L1_KINDS=\["predictions"\] is invalid/);
    expect(resolveConfig({ envFile: false, env: { CACHE_L1_KINDS: 'prediction, generation' } }).l1.kinds).toEqual(['prediction', 'generation']);
    expect(resolveConfig({ envFile: false, env: { CACHE_L1_KINDS: '*' } }).l1.kinds).toBe('*');
  });

  it('accepts redis:// and rediss:// URLs and turns TLS on for rediss', () => {
    expect(resolveConfig({ ...none, url: 'redis://h:1/2' }).tls).toBeUndefined();
    expect(resolveConfig({ ...none, url: 'rediss://h:1' }).tls).toEqual({});
  });

  it('never prints the password in an address or a URL error', () => {
    expect(describeRedisAddress(resolveConfig({ ...none, password: 's3cret', username: 'app' }))).toBe('redis://app:***@localhost:6379/0');
    expect(maskUrl('redis://app:s3cret@h:6379')).toBe('redis://app:***@h:6379');
    expect(() => resolveConfig({ ...none, url: 'ftp://u:s3cret@h' })).toThrow(/\*\*\*/);
    try {
      resolveConfig({ ...none, url: 'ftp://u:s3cret@h' });
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cret');
    }
  });

  it('shows the password and the URL credentials masked when the configuration is serialized or logged', () => {
    const config = resolveConfig({ ...none, url: 'redis://app:url-s3cret@h:6379', password: 'env-s3cret' });
    for (const text of [JSON.stringify(config), inspect(config, { depth: 5 }), JSON.stringify({ nested: config })]) {
      expect(text).not.toMatch(/s3cret/);
      expect(text).toContain('redis://app:***@h:6379');
    }
    expect(JSON.parse(JSON.stringify(config)).password).toBe('***');
    // Still there for the connection.
    expect(config.password).toBe('env-s3cret');
    expect(config.url).toBe('redis://app:url-s3cret@h:6379');
    expect({ ...config }.password).toBe('env-s3cret');
  });

  it('masks every piece of a password with @ or / in a URL the parser rejects', () => {
    for (const url of ['redis://app:pa@ss-Word1@h:notaport', 'redis://app:pa/ss-Word2@h:6379', 'redis://:x/y@z-Word3@h:bad']) {
      const error = (() => {
        try {
          resolveConfig({ ...none, url });
        } catch (e) {
          return e as Error;
        }
        return new Error(`accepted ${url}`);
      })();
      expect(error.message).toMatch(/is invalid/);
      expect(error.message).not.toMatch(/Word|pa\b|ss-|x\/y/);
    }
  });
});
