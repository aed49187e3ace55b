import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cookieValue, DashboardAuth, hostNameOf, tokensEqual } from './auth.js';
import { dashboardUrl, isLoopbackHost, MIN_TOKEN_LENGTH, resolveToken } from './dashboard-options.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const TOKEN = 'a-long-enough-token-0123456789';

describe('tokensEqual', () => {
  it('is true for the same token only', () => {
    expect(tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(tokensEqual(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokensEqual(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokensEqual('', TOKEN)).toBe(false);
  });
});

describe('DashboardAuth with a token', () => {
  const auth = new DashboardAuth({ token: TOKEN, port: 7379 });

  it('refuses a request without the token with 401, whatever its Host', () => {
    expect(auth.check(request({ host: '127.0.0.1:7379' }), null)).toMatchObject({ ok: false, status: 401 });
    expect(auth.check(request({ host: '10.0.0.5:7379', authorization: 'Bearer wrong-token-wrong-token' }), null)).toMatchObject({ ok: false, status: 401 });
    expect(auth.check(request({ host: '10.0.0.5:7379', cookie: 'finrisk_dashboard_7380=' + TOKEN }), null)).toMatchObject({ ok: false, status: 401 });
  });

  it('accepts the bearer header, its own session cookie, or ?token= on the page', () => {
    expect(auth.check(request({ host: 'h', authorization: `Bearer ${TOKEN}` }), null)).toEqual({ ok: true });
    expect(auth.check(request({ host: 'h', cookie: `other=1; finrisk_dashboard_7379=${TOKEN}` }), null)).toEqual({ ok: true });
    expect(auth.check(request({ host: 'h' }), TOKEN)).toEqual({ ok: true });
  });

  it('sets an HttpOnly, SameSite=Strict cookie, Secure behind HTTPS', () => {
    expect(auth.sessionCookie(false)).toBe(`finrisk_dashboard_7379=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`);
    expect(auth.sessionCookie(true)).toMatch(/; Secure$/);
  });
});

describe('DashboardAuth without a token (loopback)', () => {
  const auth = new DashboardAuth({ token: undefined, port: 7379 });

  it('answers requests that name this machine', () => {
    for (const host of ['127.0.0.1:7379', 'localhost:7379', '[::1]:7379', 'localhost:9000']) expect(auth.check(request({ host }), null)).toEqual({ ok: true });
  });

  it('refuses any other Host with 403 (DNS rebinding), and a request with none', () => {
    expect(auth.check(request({ host: 'attacker.example:7379' }), null)).toMatchObject({ ok: false, status: 403 });
    expect(auth.check(request({ host: '127.0.0.1.attacker.example' }), null)).toMatchObject({ ok: false, status: 403 });
    expect(auth.check(request({}), null)).toMatchObject({ ok: false, status: 403 });
  });
});

describe('header parsing', () => {
  it('reads one cookie and a host name', () => {
    expect(cookieValue('a=1; b=2', 'b')).toBe('2');
    expect(cookieValue('ab=1', 'b')).toBeUndefined();
    expect(hostNameOf('[::1]:80')).toBe('::1');
    expect(hostNameOf('example.com:80')).toBe('example.com');
    expect(hostNameOf('example.com')).toBe('example.com');
  });
});

describe('dashboard options', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('needs no token on loopback, generates one elsewhere, and refuses a short one', () => {
    expect(resolveToken('127.0.0.1', undefined)).toEqual({ token: undefined, generated: false });
    const generated = resolveToken('0.0.0.0', undefined);
    expect(generated.generated).toBe(true);
    expect(generated.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(resolveToken('0.0.0.0', undefined).token).not.toBe(generated.token);
    expect(resolveToken('127.0.0.1', TOKEN)).toEqual({ token: TOKEN, generated: false });
    expect(() => resolveToken('0.0.0.0', 'x'.repeat(MIN_TOKEN_LENGTH - 1))).toThrow(/at least 16 characters/);
    expect(() => resolveToken('0.0.0.0', `${'x'.repeat(MIN_TOKEN_LENGTH)}&a=b`)).toThrow(/at least 16 characters/);
  });

  it('prints the URL with the token, IPv6 in brackets', () => {
    expect(dashboardUrl('127.0.0.1', 7379, undefined)).toBe('http://127.0.0.1:7379/');
    expect(dashboardUrl('::1', 8080, TOKEN)).toBe(`http://[::1]:8080/?token=${TOKEN}`);
    expect(dashboardUrl('0.0.0.0', 7379, TOKEN)).toMatch(new RegExp(`^http://[^/]+:7379/\\?token=${TOKEN}$`));
  });
});
