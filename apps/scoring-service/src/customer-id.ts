/** Customer ids the service accepts: what the upstream systems issue. */
const CUSTOMER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Model versions a deploy may announce (`v1.2.0`, `2025-01-15`, `canary_3`). */
const MODEL_VERSION = /^[A-Za-z0-9_.+-]{1,64}$/;

/** Why `id` is not a customer id, or `undefined` when it is one. */
export function customerIdProblem(id: string): string | undefined {
  if (CUSTOMER_ID.test(id)) return undefined;
  return `invalid customer id ${JSON.stringify(id.slice(0, 80))}: use 1 to 64 letters, digits, "_", "-" or "."`;
}

/** Why `version` is not a model version, or `undefined` when it is one. */
export function modelVersionProblem(version: string): string | undefined {
  if (MODEL_VERSION.test(version)) return undefined;
  return `invalid model version ${JSON.stringify(version.slice(0, 80))}: use 1 to 64 letters, digits, "_", "-", "." or "+"`;
}
