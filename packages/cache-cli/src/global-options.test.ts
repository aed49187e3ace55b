import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, SETTINGS } from '@finrisk/cache-core';
import { describe, expect, it } from 'vitest';
import { configRows } from './commands/config.js';
import { cacheOptionsFromFlags } from './global-options.js';
import { ENVIRONMENT_HELP } from './help-text.js';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'finrisk-cli-'));

describe('flags over the environment', () => {
  it('--port overrides the port of REDIS_URL, keeping its password', () => {
    const options = cacheOptionsFromFlags({ port: 6390 }, { REDIS_URL: 'redis://:secret@cache.internal:6379/2' }, emptyDir());
    expect(options.url).toBe('redis://:secret@cache.internal:6390/2');
  });

  it('--url wins over everything', () => {
    const options = cacheOptionsFromFlags({ url: 'redis://a:1/0', port: 2 }, { REDIS_URL: 'redis://b:3/0' }, emptyDir());
    expect(options.url).toBe('redis://a:1/0');
  });

  it('reads REDIS_URL from .env too', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, '.env'), 'REDIS_URL=redis://from-env-file:6379/0\n');
    expect(cacheOptionsFromFlags({ db: 3 }, {}, dir).url).toBe('redis://from-env-file:6379/3');
  });
});

describe('config rows', () => {
  it('shows each source and masks the password', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, '.env'), 'REDIS_PASSWORD=hunter2\nCACHE_FEATURE_TTL=60\n');
    const config = resolveConfig(cacheOptionsFromFlags({ port: 6390 }, { REDIS_HOST: 'cache.internal' }, dir));
    const rows = Object.fromEntries(configRows(config).map((r) => [r.variable, r]));
    expect(rows.REDIS_PORT).toMatchObject({ value: '6390', source: 'flag' });
    expect(rows.REDIS_HOST).toMatchObject({ value: 'cache.internal', source: 'environment' });
    expect(rows.CACHE_FEATURE_TTL).toMatchObject({ value: '60', source: '.env' });
    expect(rows.REDIS_PASSWORD).toMatchObject({ value: '***', source: '.env' });
    expect(rows.REDIS_DB).toMatchObject({ value: '0', source: 'default' });
    expect(JSON.stringify(rows)).not.toContain('hunter2');
  });

  it('masks a password inside REDIS_URL', () => {
    const config = resolveConfig(cacheOptionsFromFlags({}, { REDIS_URL: 'redis://user:hunter2@h:6379/0' }, emptyDir()));
    const row = configRows(config).find((r) => r.variable === 'REDIS_URL');
    expect(row?.value).toBe('redis://user:***@h:6379/0');
  });

  it('shows the breaker settings and the encryption key id, never the key', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = resolveConfig(cacheOptionsFromFlags({}, { CACHE_ENCRYPTION_KEYS: `k2026:${key}`, CACHE_BREAKER_THRESHOLD: '9' }, emptyDir()));
    const rows = Object.fromEntries(configRows(config).map((r) => [r.variable, r]));
    expect(rows.CACHE_BREAKER_THRESHOLD).toMatchObject({ value: '9', source: 'environment' });
    expect(rows.CACHE_BREAKER_COOLDOWN_MS).toMatchObject({ value: '1000', source: 'default' });
    expect(rows.CACHE_ENCRYPTION_KEYS).toMatchObject({ value: expect.stringMatching(/^\*\*\* \(key ids .*k2026/), source: 'environment' });
    expect(JSON.stringify(rows)).not.toContain(key);
  });
});

describe('--help and config from the settings table', () => {
  it('lists every setting of the library in --help and in config', () => {
    const rows = configRows(resolveConfig(cacheOptionsFromFlags({}, {}, emptyDir())));
    for (const spec of SETTINGS) {
      expect(ENVIRONMENT_HELP, spec.variable).toContain(spec.variable);
      expect(rows.map((r) => r.variable), spec.variable).toContain(spec.variable);
    }
  });
});
