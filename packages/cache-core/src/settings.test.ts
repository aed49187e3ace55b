import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, resolveConfig } from './config.js';
import { FinRiskCacheError } from './errors.js';
import { SETTINGS, type SettingSpec } from './settings.js';
import { SETTINGS_READMES, withSettingsTable } from './settings-docs.js';
import { MAX_TIMEOUT_MS } from './stores/deadline.js';

const specs = SETTINGS;
const none = { envFile: false as const, env: {} };

describe('the settings table', () => {
  it('names every variable once', () => {
    const variables = specs.map((s) => s.variable);
    expect(new Set(variables).size).toBe(variables.length);
  });

  it('is what resolveConfig reads: every variable set to its example shows in config as coming from the environment', () => {
    // Examples that would conflict with each other are resolved one at a time.
    for (const spec of specs) {
      const env: Record<string, string> = { [spec.variable]: spec.example };
      if (spec.variable === 'REDIS_SENTINELS') env.REDIS_SENTINEL_MASTER = 'mymaster';
      if (spec.variable === 'REDIS_TLS_CERT') env.REDIS_TLS_KEY = '/k';
      if (spec.variable === 'REDIS_TLS_KEY') env.REDIS_TLS_CERT = '/c';
      if (spec.variable.startsWith('CACHE_ENCRYPT') && spec.variable !== 'CACHE_ENCRYPTION_KEYS') {
        env.CACHE_ENCRYPTION_KEYS = 'k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
      }
      const row = describeSettings(resolveConfig({ envFile: false, env })).find((r) => r.variable === spec.variable);
      expect(row, spec.variable).toMatchObject({ source: 'environment', name: spec.name });
      expect(row?.value, spec.variable).not.toBeNull();
      if (spec.secret) expect(row?.value, spec.variable).not.toContain(spec.example);
    }
  });

  it('holds every duration that becomes a Node timer within what a timer can hold (2^31-1 ms), and refuses more naming the variable', () => {
    // TTLs go to Redis (PX) and to L1's clock, never to a timer; every other duration arms one.
    const timers = specs.filter((s) => s.type.kind === 'integer' && (s.type.unit === 'ms' || (s.type.unit === 's' && !s.name.startsWith('ttl.') && s.name !== 'l1.maxTtl')));
    expect(timers.map((s) => s.name)).toEqual(['commandTimeoutMs', 'connectTimeoutMs', 'scanTimeoutMs', 'closeTimeoutMs', 'breakerCooldownMs', 'statsIntervalSeconds']);
    for (const spec of timers) {
      const type = spec.type as { max: number; unit: 'ms' | 's' };
      expect(type.max * (type.unit === 's' ? 1000 : 1), spec.name).toBeLessThanOrEqual(MAX_TIMEOUT_MS);
      expect(() => resolveConfig({ envFile: false, env: { [spec.variable]: String(type.max + 1) } }), spec.name).toThrow(`${spec.variable}="${type.max + 1}" is invalid`);
      expect(() => resolveConfig({ envFile: false, env: { [spec.variable]: String(2 ** 31) } }), spec.name).toThrow(FinRiskCacheError);
    }
  });

  it("resolves each setting's default to the table's default", () => {
    const rows = describeSettings(resolveConfig(none));
    for (const spec of specs) {
      const row = rows.find((r) => r.variable === spec.variable)!;
      expect(row.source, spec.variable).toBe('default');
      // Settings with no constant default are unset (null) or computed (the local path).
      if (spec.default !== undefined) expect(row.value, spec.variable).toBe(String(spec.default));
      else if (spec.defaultText === undefined) expect(row.value, spec.variable).toBeNull();
    }
  });

  it('refuses a value of the wrong type for every setting, naming the variable', () => {
    const bad: Partial<Record<SettingSpec['type']['kind'], string>> = {
      integer: 'twelve', boolean: 'maybe', choice: 'nope', url: 'http://x', 'host-ports': 'nohost', keys: 'nocolon',
    };
    for (const spec of specs) {
      const value = bad[spec.type.kind];
      if (value === undefined) continue;
      let error: unknown;
      try {
        resolveConfig({ envFile: false, env: { [spec.variable]: value } });
      } catch (e) {
        error = e;
      }
      expect(FinRiskCacheError.hasCode(error, 'E_INVALID_CONFIG'), spec.variable).toBe(true);
      expect((error as Error).message, spec.variable).toContain(spec.variable);
    }
  });

  it('refuses key prefixes that are key spaces of the finrisk-python layout', () => {
    for (const prefix of ['prediction', 'features']) {
      expect(() => resolveConfig({ envFile: false, env: { CACHE_KEY_PREFIX: prefix } })).toThrow(/collides with the finrisk-python layout/);
    }
    expect(resolveConfig({ envFile: false, env: { CACHE_KEY_PREFIX: 'predictions' } }).keyPrefix).toBe('predictions');
  });

  it('shows encryption key ids, never the keys', () => {
    const key = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
    const rows = describeSettings(resolveConfig({ envFile: false, env: { CACHE_ENCRYPTION_KEYS: `old:${key},new:${key}`, CACHE_ENCRYPTION_KEY_ID: 'new' } }));
    const text = JSON.stringify(rows);
    expect(text).not.toContain(key);
    expect(rows.find((r) => r.variable === 'CACHE_ENCRYPTION_KEYS')?.value).toBe('*** (key ids old, new)');
    expect(rows.find((r) => r.variable === 'CACHE_ENCRYPTION_KEY_ID')?.value).toBe('new');
    expect(rows.find((r) => r.variable === 'CACHE_ENCRYPT_KINDS')?.value).toBe('*');
  });

  it.each(SETTINGS_READMES)('is the table in $path (run `pnpm docs:settings` after changing settings.ts)', ({ path, audience }) => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', path), 'utf8');
    expect(withSettingsTable(readme, audience)).toBe(readme);
  });
});

describe('encryption settings without keys', () => {
  it.each([['CACHE_ENCRYPTION_KEY_ID', 'k1'], ['CACHE_ENCRYPT_KINDS', 'prediction']])('refuses %s set alone: nothing would be encrypted', (variable, value) => {
    expect(() => resolveConfig({ envFile: false, env: { [variable]: value } })).toThrow(new RegExp(`${variable}=.*CACHE_ENCRYPTION_KEYS to be set`));
  });
});
