import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './dashboard-options.js';

/** The outcome of {@link DashboardAuth.check}. */
export type AuthResult = { ok: true } | { ok: false; status: 401 | 403; message: string };

/**
 * True when `candidate` is `token`, in time that does not depend on where they differ: both are
 * hashed first, so that the comparison is over equal lengths and leaks neither the token's length
 * nor its prefix.
 */
export function tokensEqual(candidate: string, token: string): boolean {
  const a = createHash('sha256').update(candidate, 'utf8').digest();
  const b = createHash('sha256').update(token, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The value of one cookie in a `Cookie` header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The host name of a `Host` header (`localhost:7379` is `localhost`, `[::1]:7379` is `::1`). */
export function hostNameOf(header: string | undefined): string {
  if (!header) return '';
  const bracket = /^\[([^\]]*)\]/.exec(header);
  if (bracket) return bracket[1]!;
  const colon = header.lastIndexOf(':');
  return colon === -1 ? header : header.slice(0, colon);
}

/**
 * Who may use the dashboard. With a token, every request (page, assets, API, event stream) must
 * carry it: the session cookie the page sets, an `Authorization: Bearer` header, or `?token=` on
 * the page's first load. Without a token (loopback only), the request's `Host` must name this
 * machine too: a web page elsewhere that points its own domain at 127.0.0.1 (DNS rebinding) would
 * otherwise read the dashboard as if it were its own origin.
 */
export class DashboardAuth {
  readonly #token: string | undefined;
  /** Name of the session cookie; it carries the port, as browsers share cookies across the ports of one host. */
  readonly cookieName: string;

  constructor(options: { token: string | undefined; port: number }) {
    this.#token = options.token;
    this.cookieName = `finrisk_dashboard_${options.port}`;
  }

  /** True when requests need the token. */
  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  /** True when `candidate` is the token (constant time). */
  isToken(candidate: string | null | undefined): boolean {
    return this.#token !== undefined && typeof candidate === 'string' && tokensEqual(candidate, this.#token);
  }

  /** Whether `req` may be answered; `queryToken` is the `?token=` of the page's first load. */
  check(req: IncomingMessage, queryToken: string | null): AuthResult {
    if (this.#token === undefined) {
      if (!isLoopbackHost(hostNameOf(req.headers.host))) {
        return { ok: false, status: 403, message: 'this dashboard answers only to http://127.0.0.1 or http://localhost (it has no token)' };
      }
      return { ok: true };
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (this.isToken(bearer) || this.isToken(cookieValue(req.headers.cookie, this.cookieName)) || this.isToken(queryToken)) return { ok: true };
    return { ok: false, status: 401, message: 'this dashboard needs its token: open the URL it printed when it started' };
  }

  /** The `Set-Cookie` value that keeps the session after `?token=` (HttpOnly, SameSite=Strict; Secure behind HTTPS). */
  sessionCookie(secure: boolean): string {
    return `${this.cookieName}=${this.#token ?? ''}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }
}
