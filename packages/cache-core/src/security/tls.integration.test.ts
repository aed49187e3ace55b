// TLS against real redis-server processes, with a CA and certificates made by openssl for this
// test: rediss:// with a CA file, client certificates when the server asks for them, and
// certificates that do not match failing closed (never a plaintext fallback).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from '../cache.js';
import { FinRiskCacheError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'finrisk-tls-'));
const file = (name: string) => join(dir, name);
const servers: RedisServer[] = [];
const open: Cache[] = [];

function openssl(...args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  } catch (error) {
    throw new Error(`openssl ${args.join(' ')} failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`);
  }
}

/** A CA: `{name}.key` and a self-signed `{name}.crt`. */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`);
}

/** A certificate `{name}.crt` / `{name}.key` signed by `ca`, with the given subjectAltName and usage. */
function makeCert(name: string, ca: string, altNames: string, usage: 'serverAuth' | 'clientAuth'): void {
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(file(`${name}.ext`), `subjectAltName=${altNames}\nextendedKeyUsage=${usage}\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2',
    '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

/** A TLS-only redis-server (no plaintext port) presenting `cert`; `authClients` as redis.conf names it. */
async function startTlsServer(cert: string, authClients: 'yes' | 'no' | 'optional'): Promise<RedisServer> {
  const port = await freePort();
  const server = await startRedisServer({
    port,
    // The probe speaks plain RESP; the TLS port being open is enough.
    probe: 'port',
    args: ['--port', '0', '--tls-port', String(port), '--tls-cert-file', file(`${cert}.crt`), '--tls-key-file', file(`${cert}.key`),
      '--tls-ca-cert-file', file('ca.crt'), '--tls-auth-clients', authClients],
  });
  servers.push(server);
  return server;
}

function cache(options: CreateCacheOptions): Cache {
  // A generous command deadline: a pause of this process on a loaded machine must not fail a healthy call.
  const c = createCache({ backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, connectTimeoutMs: 2000, commandTimeoutMs: 5000, logger: { warn: () => {} }, ...options });
  open.push(c);
  return c;
}

/** The error a strict cache throws on its first call. */
async function firstError(c: Cache): Promise<FinRiskCacheError> {
  const error = await c.get('k').catch((e: unknown) => e);
  if (!FinRiskCacheError.isInstance(error)) throw new Error(`expected a FinRiskCacheError, got ${String(error)}`);
  return error;
}

let optional: RedisServer;
let required: RedisServer;

beforeAll(async () => {
  makeCa('ca');
  makeCa('other-ca');
  makeCert('server', 'ca', 'IP:127.0.0.1,DNS:localhost', 'serverAuth');
  makeCert('client', 'ca', 'DNS:finrisk-app', 'clientAuth');
  makeCert('wrong-host', 'ca', 'DNS:redis.elsewhere.example', 'serverAuth');
  makeCert('foreign', 'other-ca', 'IP:127.0.0.1,DNS:localhost', 'serverAuth');
  makeCert('foreign-client', 'other-ca', 'DNS:finrisk-app', 'clientAuth');
  optional = await startTlsServer('server', 'optional');
  required = await startTlsServer('server', 'yes');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('rediss:// with a CA file', () => {
  it('connects and round-trips with REDIS_TLS_CA', async () => {
    const c = cache({ env: { REDIS_URL: `rediss://127.0.0.1:${optional.port}`, REDIS_TLS_CA: file('ca.crt') } });
    expect(await c.set('k', { secure: true })).toBe(true);
    expect(await c.get('k')).toEqual({ secure: true });
    const check = await c.checkConnection();
    expect(check.ok).toBe(true);
    expect(check.address).toBe(`rediss://127.0.0.1:${optional.port}`);
  });

  it('verifies against localhost too (the certificate names it)', async () => {
    const c = cache({ url: `rediss://localhost:${optional.port}`, tls: { caFile: file('ca.crt') } });
    expect(await c.set('k', 1)).toBe(true);
  });

  it('fails closed without the CA: the server certificate is not trusted', async () => {
    const c = cache({ url: `rediss://127.0.0.1:${optional.port}`, strict: true });
    const error = await firstError(c);
    expect(error.code).toBe('E_REDIS_UNAVAILABLE');
    expect(error.message).toMatch(/certificate/i);
    expect(error.message).toContain(`rediss://127.0.0.1:${optional.port}`);
  });

  it('never falls back to plaintext: rediss:// to a plaintext-only server fails', async () => {
    const plain = await startRedisServer();
    servers.push(plain);
    const c = cache({ url: `rediss://127.0.0.1:${plain.port}`, tls: { caFile: file('ca.crt') }, strict: true });
    const error = await firstError(c);
    expect(error.code).toBe('E_REDIS_UNAVAILABLE');
    expect(Number(/total_commands_processed:(\d+)/.exec(plain.cli('INFO', 'stats'))![1])).toBeLessThanOrEqual(2); // only this INFO (and none of the cache's)
    expect(plain.cli('DBSIZE')).toBe('0');
  });
});

describe('client certificates', () => {
  it('work when the server requires them', async () => {
    const c = cache({
      env: { REDIS_URL: `rediss://127.0.0.1:${required.port}`, REDIS_TLS_CA: file('ca.crt'), REDIS_TLS_CERT: file('client.crt'), REDIS_TLS_KEY: file('client.key') },
    });
    expect(await c.set('k', 'mutual')).toBe(true);
    expect(await c.get('k')).toBe('mutual');
  });

  it('without one, the connection is refused with a clear error', async () => {
    const c = cache({ url: `rediss://127.0.0.1:${required.port}`, tls: { caFile: file('ca.crt') }, strict: true });
    const error = await firstError(c);
    expect(error.code).toBe('E_REDIS_UNAVAILABLE');
    expect(error.message).toContain(`rediss://127.0.0.1:${required.port}`);
    expect(error.message).toMatch(/certificate required/);
    expect((await c.checkConnection()).ok).toBe(false);
  });

  it('one signed by another CA is refused', async () => {
    const c = cache({
      url: `rediss://127.0.0.1:${required.port}`,
      tls: { caFile: file('ca.crt'), certFile: file('foreign-client.crt'), keyFile: file('foreign-client.key') },
      strict: true,
    });
    expect((await firstError(c)).code).toBe('E_REDIS_UNAVAILABLE');
  });

  it('a certificate without its key is a configuration error, not a silent plaintext or no-cert connection', () => {
    expect(() => cache({ env: { REDIS_URL: `rediss://127.0.0.1:${required.port}`, REDIS_TLS_CERT: file('client.crt') } })).toThrow(/REDIS_TLS_KEY/);
  });
});

describe('a server certificate that does not match fails closed', () => {
  it('wrong host name: E_REDIS_UNAVAILABLE naming the mismatch', async () => {
    const server = await startTlsServer('wrong-host', 'optional');
    const c = cache({ url: `rediss://127.0.0.1:${server.port}`, tls: { caFile: file('ca.crt') }, strict: true });
    const error = await firstError(c);
    expect(error.code).toBe('E_REDIS_UNAVAILABLE');
    expect(error.message).toMatch(/does not match certificate's altnames|altnames/i);
    const check = await c.checkConnection();
    expect(check).toMatchObject({ ok: false, code: 'E_REDIS_UNAVAILABLE' });
    expect(check.error).toMatch(/altnames/);
    // Not strict: a miss and false, never data over an unverified connection.
    const lenient = cache({ url: `rediss://127.0.0.1:${server.port}`, tls: { caFile: file('ca.crt') } });
    expect(await lenient.set('k', 1)).toBe(false);
    expect(await lenient.get('k')).toBeNull();
  });

  it('signed by another CA: E_REDIS_UNAVAILABLE naming the certificate', async () => {
    const server = await startTlsServer('foreign', 'optional');
    const c = cache({ url: `rediss://127.0.0.1:${server.port}`, tls: { caFile: file('ca.crt') }, strict: true });
    const error = await firstError(c);
    expect(error.code).toBe('E_REDIS_UNAVAILABLE');
    expect(error.message).toMatch(/certificate/i);
  });

  it('with backend auto: falls back to the local store and says why', async () => {
    const server = await startTlsServer('wrong-host', 'optional');
    const warnings: string[] = [];
    const c = cache({
      backend: 'auto', url: `rediss://127.0.0.1:${server.port}`, tls: { caFile: file('ca.crt') },
      localPath: file('fallback.db'), logger: { warn: (m) => warnings.push(m) },
    });
    expect(await c.set('k', 1)).toBe(true);
    expect(c.store?.backend).toBe('local');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/altnames/);
    expect(warnings[0]).toContain(file('fallback.db'));
  });
});
