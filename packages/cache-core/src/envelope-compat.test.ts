import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ENCRYPTED_FIXTURE_STORE_KEY,
  FIXTURE_KEY,
  FIXTURE_KEY_ID,
  fixtureValues,
} from '../test/fixtures/envelope/values.js';
import { createCache } from './cache.js';
import { ENVELOPE_VERSION, decodeValue, readHeader } from './codec.js';
import { Keyring } from './encryption.js';
import { MemoryStore } from './stores/memory-store.js';

const dir = fileURLToPath(new URL('../test/fixtures/envelope/', import.meta.url));
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.bin'))
  .map((file) => {
    const match = /^v(\d+)-(.+)\.bin$/.exec(file);
    if (!match) throw new Error(`fixture ${file} is not named v{format}-{value}.bin`);
    return { file, version: Number(match[1]), name: match[2]!, bytes: readFileSync(`${dir}${file}`) };
  });

describe('payloads written by earlier SDK versions', () => {
  it('has a fixture of every value for every format up to the current one', () => {
    for (let version = 1; version <= ENVELOPE_VERSION; version++) {
      const names = fixtures.filter((f) => f.version === version).map((f) => f.name).sort();
      expect(names).toEqual(Object.keys(fixtureValues).sort());
    }
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('reads %s exactly', async (_file, fixture) => {
    const expected = fixtureValues[fixture.name]!();
    expect(readHeader(fixture.bytes)?.version).toBe(fixture.version);
    if (fixture.name.startsWith('encrypted')) {
      const keyring = new Keyring({ keys: { [FIXTURE_KEY_ID]: FIXTURE_KEY } });
      expect(await decodeValue(keyring.decrypt(fixture.bytes, ENCRYPTED_FIXTURE_STORE_KEY))).toStrictEqual(expected);
      return;
    }
    expect(await decodeValue(fixture.bytes)).toStrictEqual(expected);
  });

  it('reads them through a cache, end to end', async () => {
    const store = new MemoryStore();
    const cache = createCache({ store, envFile: false, env: { CACHE_ENCRYPTION_KEYS: `${FIXTURE_KEY_ID}:${FIXTURE_KEY}`, CACHE_ENCRYPT_KINDS: 'feature' } });
    for (const fixture of fixtures) {
      const key = fixture.name.startsWith('encrypted') ? { kind: 'feature', key: ENCRYPTED_FIXTURE_STORE_KEY } : cache.keys.key('kv', fixture.file);
      await store.set(key.key, fixture.bytes);
      expect(await cache.get(key)).toStrictEqual(fixtureValues[fixture.name]!());
    }
    await cache.close();
  });
});
