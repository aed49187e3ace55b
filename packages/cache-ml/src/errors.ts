import { FinRiskCacheError } from '@finrisk/cache-core';

/**
 * cache-ml throws the same {@link FinRiskCacheError} as cache-core, with the same stable codes,
 * so that a service switches on one set of codes:
 *
 * - `E_INVALID_KEY`: an id is empty, too long, has control characters, or (finrisk-python
 *   layout only) a model type contains `:`.
 * - `E_INVALID_VALUE`: a prediction or features value that is not a plain object, a null or
 *   undefined artifact, a class that was not registered, a bad ttl or grace.
 * - `E_PAYLOAD_TOO_LARGE`: the encoded value is larger than `maxValueBytes`.
 * - `E_SCHEMA`: a value failed the caller's schema on write (a failure on read is a miss).
 * - `E_INVALID_CONFIG`: options that cannot work together (grace with the finrisk-python layout).
 */
export { FinRiskCacheError };

/** Thrown when a value cannot be cached (wrong shape, null, ...). */
export function invalidValue(message: string): FinRiskCacheError {
  return new FinRiskCacheError('E_INVALID_VALUE', message);
}

/** Thrown when a key part is not acceptable in the layout in use. */
export function invalidKey(message: string): FinRiskCacheError {
  return new FinRiskCacheError('E_INVALID_KEY', message);
}

/** Thrown when options contradict each other. */
export function invalidConfig(message: string): FinRiskCacheError {
  return new FinRiskCacheError('E_INVALID_CONFIG', message);
}

/** Thrown on write (reported on read) when a value fails the caller's schema. */
export function schemaError(what: string, issues: readonly { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined }[]): FinRiskCacheError {
  const detail = issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path?.map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
  return new FinRiskCacheError('E_SCHEMA', `${what} does not match its schema: ${detail}`);
}
