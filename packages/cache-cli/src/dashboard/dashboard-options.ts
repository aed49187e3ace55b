import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { CliError } from '../errors.js';

/** What `finrisk-cache dashboard` asks for, from its flags. */
export interface DashboardRequest {
  /** Address the HTTP server listens on. @default '127.0.0.1' */
  host: string;
  /** Port the HTTP server listens on. @default 7379 */
  port: number;
  /** The token given (`--token` or FINRISK_DASHBOARD_TOKEN). */
  token: string | undefined;
  /** @default false */
  allowWrites: boolean;
  /** @default 2000 */
  refreshMs: number;
  /** @default 10000 */
  fleetIntervalMs: number;
  /** @default 60000 */
  keysIntervalMs: number;
  /** @default 3600000 */
  historyMs: number;
}

/** What `finrisk-cache dashboard` runs with, resolved from its flags. */
export interface DashboardOptions {
  /** Address the HTTP server listens on. @default '127.0.0.1' */
  host: string;
  /** Port the HTTP server listens on. @default 7379 */
  port: number;
  /** The token every request must carry; undefined on loopback without `--token`. */
  token: string | undefined;
  /** True when the token was generated (and so must be printed). */
  tokenGenerated: boolean;
  /** Clears (predictions, features, model artifacts, frames) are offered. @default false */
  allowWrites: boolean;
  /** Time between two samples of the server (PING, INFO), in ms. @default 2000 */
  refreshMs: number;
  /** Least time between two reads of the fleet's statistics (and of the sentinels), in ms. @default 10000 */
  fleetIntervalMs: number;
  /** Least time between two key counts (SCAN of the key prefix), in ms. @default 60000 */
  keysIntervalMs: number;
  /** How much history the charts keep, in ms. @default 3600000 (one hour) */
  historyMs: number;
}

/** Shortest token accepted from `--token`: anything shorter can be guessed over the network. */
export const MIN_TOKEN_LENGTH = 16;

/** True for an address or name that only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/** A new random token: 32 bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The token the dashboard requires: the one given (flag, then {@link TOKEN_VARIABLE}), or a new
 * one when listening on anything but loopback. Throws E_USAGE for a token too short to be safe
 * or with characters a URL would mangle.
 */
export function resolveToken(host: string, given: string | undefined): { token: string | undefined; generated: boolean } {
  if (given !== undefined) {
    if (given.length < MIN_TOKEN_LENGTH || !/^[A-Za-z0-9._~-]+$/.test(given)) {
      throw new CliError(
        'E_USAGE',
        `the dashboard token must be at least ${MIN_TOKEN_LENGTH} characters of A-Z, a-z, 0-9, '.', '_', '~' or '-'; leave out --token to have one generated`,
      );
    }
    return { token: given, generated: false };
  }
  return isLoopbackHost(host) ? { token: undefined, generated: false } : { token: generateToken(), generated: true };
}

/** The host to print in the URL: a wildcard address becomes this machine's first non-loopback address. */
export function reachableHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '[::]') return host;
  const family = host === '0.0.0.0' ? 'IPv4' : undefined;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal && (family === undefined || address.family === family)) return address.address;
    }
  }
  return host === '0.0.0.0' ? '127.0.0.1' : '::1';
}

/** The dashboard's URL, with the token when there is one (the page trades it for a cookie and drops it from the address bar). */
export function dashboardUrl(host: string, port: number, token: string | undefined): string {
  const shown = reachableHost(host);
  const hostPart = isIP(shown) === 6 ? `[${shown}]` : shown;
  return `http://${hostPart}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** The options a request resolves to: the token checked, or generated when listening off loopback. */
export function resolveDashboardOptions(request: DashboardRequest): DashboardOptions {
  const { token, generated } = resolveToken(request.host, request.token);
  return { ...request, token, tokenGenerated: generated };
}
