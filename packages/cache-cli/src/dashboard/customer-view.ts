import type { MlCache } from '@finrisk/cache-ml';
import { visitCustomer, type CustomerEntry } from '../customer-lookup.js';
import { valueFields, type ValueField } from './display-value.js';

/** Largest answer of one customer lookup, in bytes of JSON: values past it are summarised (their entry is listed, its fields are not sent). */
export const LOOKUP_MAX_BYTES = 1024 * 1024;
/** Most predictions one lookup lists (a customer has one per model); the others are counted. */
export const LOOKUP_MAX_PREDICTIONS = 200;

/** One entry as the page shows it. */
export interface CustomerViewEntry extends CustomerEntry {
  /** The value as named fields of text; empty when `valueOmitted`. */
  fields: ValueField[];
  /** True when the value was read but not sent: the answer had reached {@link LOOKUP_MAX_BYTES}. */
  valueOmitted?: true;
}

/** The dashboard's answer to a customer lookup. */
export interface CustomerView {
  customer: string;
  entries: CustomerViewEntry[];
  /** Entries whose value was not sent (`valueOmitted`). */
  valuesOmitted: number;
  /** Predictions past {@link LOOKUP_MAX_PREDICTIONS}, not listed, or entries that did not fit even without their value. */
  entriesOmitted: number;
  /** {@link LOOKUP_MAX_BYTES}, for the page to say. */
  limitBytes: number;
}

/** Each feature's age in whole seconds at the lookup, from its write time (the writer's clock; never below 0). */
function withAges(fields: ValueField[], cachedAt: Record<string, string> | undefined): ValueField[] {
  if (!cachedAt) return fields;
  const now = Date.now();
  return fields.map((field) => {
    const at = Object.hasOwn(cachedAt, field.name) ? Date.parse(cachedAt[field.name]!) : Number.NaN;
    return Number.isNaN(at) ? field : { ...field, ageSeconds: Math.max(0, Math.floor((now - at) / 1000)) };
  });
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * Looks a customer up as `inspect` does and builds the answer within {@link LOOKUP_MAX_BYTES}:
 * each value is turned into text as it is read, and dropped before the next one is; once the
 * answer is full, entries are listed without their value, and past that not at all. So a lookup
 * holds at most one decoded value and a megabyte of text, however many models the customer has
 * and however large their values.
 */
export async function customerView(ml: MlCache, customer: string): Promise<CustomerView> {
  const view: CustomerView = { customer, entries: [], valuesOmitted: 0, entriesOmitted: 0, limitBytes: LOOKUP_MAX_BYTES };
  // The answer's own members, with room for the counts to grow.
  let used = jsonBytes(view) + 64;
  const { morePredictions } = await visitCustomer(
    ml,
    customer,
    ({ entry, value }) => {
      if (used >= LOOKUP_MAX_BYTES) {
        view.entriesOmitted++;
        return;
      }
      const full: CustomerViewEntry = { ...entry, fields: withAges(valueFields(value), entry.featureCachedAt) };
      const fullBytes = jsonBytes(full) + 1;
      if (used + fullBytes <= LOOKUP_MAX_BYTES) {
        view.entries.push(full);
        used += fullBytes;
        return;
      }
      const summary: CustomerViewEntry = { ...entry, fields: [], valueOmitted: true };
      const summaryBytes = jsonBytes(summary) + 1;
      if (used + summaryBytes > LOOKUP_MAX_BYTES) {
        view.entriesOmitted++;
        used = LOOKUP_MAX_BYTES;
        return;
      }
      view.entries.push(summary);
      view.valuesOmitted++;
      used += summaryBytes;
    },
    { maxPredictions: LOOKUP_MAX_PREDICTIONS },
  );
  view.entriesOmitted += morePredictions;
  return view;
}
