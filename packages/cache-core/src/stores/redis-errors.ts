import { ErrorReply } from '@redis/client';
import { maskUrl } from '../config.js';
import { FinRiskCacheError, type CacheErrorCode } from '../errors.js';

/** Maps a node-redis failure to a FinRiskCacheError with a stable code, never leaking credentials. */
export function mapRedisError(error: unknown, location: string, command: string): FinRiskCacheError {
  if (FinRiskCacheError.isInstance(error)) return error;
  const err = error as Error;
  const name = err?.constructor?.name ?? 'Error';
  const message = maskUrl(err?.message ?? String(error));
  let code: CacheErrorCode = 'E_REDIS_UNAVAILABLE';
  let text = `Redis at ${location} is unavailable (${message}); check that it runs, or run \`finrisk-cache check\``;
  if (name === 'TimeoutError' || name === 'CommandTimeoutDuringMaintenanceError' || name === 'AbortError') {
    code = 'E_TIMEOUT';
    text = `Redis at ${location} did not answer ${command} in time (${message}); raise CACHE_COMMAND_TIMEOUT_MS if the server is just slow`;
  } else if (error instanceof ErrorReply) {
    code = 'E_REDIS_COMMAND';
    text = `Redis at ${location} refused ${command}: ${message}`;
    if (message.startsWith('NOPERM')) {
      text += "; the user's ACL does not allow it (SECURITY.md lists the commands and key pattern the SDK needs)";
    }
    // Refused credentials mean no connection at all; a NOPERM for one command is that command's
    // error (E_REDIS_COMMAND), and must not trip the circuit breaker for every other call.
    if (/^(WRONGPASS|NOAUTH)/.test(message)) {
      code = 'E_REDIS_UNAVAILABLE';
      text = `Redis at ${location} refused the credentials or the command ${command}: ${message}; check REDIS_USERNAME / REDIS_PASSWORD and the user's ACL`;
    }
  }
  return new FinRiskCacheError(code, text, { cause: error });
}
