import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { FinRiskCacheError } from '@finrisk/cache-core';
import { schemaError } from './errors.js';

/** Any Standard Schema validator (zod, valibot, arktype, ...) whose output is `T`. */
export type Schema<T> = StandardSchemaV1<unknown, T>;

/** Outcome of {@link checkSchema}: the schema's output, or the error to throw or report. */
export type SchemaOutcome<T> = { ok: true; value: T } | { ok: false; error: FinRiskCacheError };

/**
 * Runs a Standard Schema validator (sync or async). Without a schema the value passes as it is.
 * The schema's output is returned, so that a schema that transforms values transforms them on read.
 */
export async function checkSchema<T>(schema: Schema<T> | undefined, value: unknown, what: string): Promise<SchemaOutcome<T>> {
  if (!schema) return { ok: true, value: value as T };
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) return { ok: false, error: schemaError(what, result.issues) };
  return { ok: true, value: result.value };
}
