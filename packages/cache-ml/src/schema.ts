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
  return checkSchemaFast(schema, value, what);
}

/**
 * {@link checkSchema} that answers synchronously unless the schema itself is async: reads
 * without a schema (the common case) allocate no promise per value.
 */
export function checkSchemaFast<T>(schema: Schema<T> | undefined, value: unknown, what: string): SchemaOutcome<T> | Promise<SchemaOutcome<T>> {
  if (!schema) return { ok: true, value: value as T };
  const result = schema['~standard'].validate(value);
  return result instanceof Promise ? result.then((r) => outcomeOf(r, what)) : outcomeOf(result, what);
}

/** Throws the schema's error for a value about to be written; a promise only for an async schema. */
export function enforceSchema<T>(schema: Schema<T> | undefined, value: T, what: string): void | Promise<void> {
  const outcome = checkSchemaFast(schema, value, what);
  if (outcome instanceof Promise) {
    return outcome.then((o) => {
      if (!o.ok) throw o.error;
    });
  }
  if (!outcome.ok) throw outcome.error;
}

function outcomeOf<T>(result: StandardSchemaV1.Result<T>, what: string): SchemaOutcome<T> {
  if (result.issues) return { ok: false, error: schemaError(what, result.issues) };
  return { ok: true, value: result.value };
}

/** Resolves a list whose items may be promises; the list itself, untouched, when none is. */
export function settleAll<T>(items: (T | Promise<T>)[]): T[] | Promise<T[]> {
  for (const item of items) if (item instanceof Promise) return Promise.all(items);
  return items as T[];
}
