import type { Cache, FinRiskCacheError } from '@finrisk/cache-core';

/** Codes of a stored value that is there but cannot be used: a read of it is a miss. */
const UNREADABLE = new Set(['E_PAYLOAD_CORRUPT', 'E_PAYLOAD_UNSUPPORTED', 'E_SCHEMA']);

/**
 * The entries a command found stored but could not read, by key: the cache reports them as
 * `error` events (a read of them is a miss), so that a command can say "corrupt" and how to
 * clear it instead of "not cached".
 */
export class UnreadableEntries {
  readonly #found = new Map<string, FinRiskCacheError>();
  readonly #stop: () => void;

  constructor(cache: Cache) {
    this.#stop = cache.on('error', (event) => {
      if (event.key !== undefined && UNREADABLE.has(event.error.code) && !this.#found.has(event.key)) this.#found.set(event.key, event.error);
    });
  }

  /** The error reported for `key` since this was created, if any. */
  of(key: string): FinRiskCacheError | undefined {
    return this.#found.get(key);
  }

  /** Stops listening. */
  stop(): void {
    this.#stop();
  }
}

/** `is corrupt` (`are`, for a plural subject), or for a value from a newer version or an unknown key id `cannot be read by this version`. */
export function unreadableState(error: FinRiskCacheError, plural = false): string {
  return error.code === 'E_PAYLOAD_UNSUPPORTED' ? 'cannot be read by this version' : plural ? 'are corrupt' : 'is corrupt';
}

/** The reason of a payload error without the key it names (the command names it itself). */
export function unreadableReason(error: FinRiskCacheError): string {
  return error.message.replace(/;? *(treated as a miss|the table reads as a miss until it is cached again)\.?$/, '');
}

/** The `error` member of a command's JSON for an unreadable entry. */
export function unreadableJson(error: FinRiskCacheError): { code: string; message: string } {
  return { code: error.code, message: error.message };
}

