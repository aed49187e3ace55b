import { bool, dateDay, dictionary, int32, utf8 } from '@uwdata/flechette';
import * as aq from 'arquero';

/** Arrow types of the bench table's columns where inference would pick others (the rest: float64), for its Arrow IPC. */
export const benchTableTypes = { id: int32(), acct: utf8(), note: utf8(), region: dictionary(utf8()), status: dictionary(utf8()), flag: bool(), day: dateDay() };

/**
 * The bench table: ints, floats, high-cardinality strings (account ids, notes), low-cardinality
 * strings (region, status with 5% nulls), booleans and dates; deterministic for a given size.
 */
export function makeBenchTable(rows: number): aq.ColumnTable {
  const id = new Array<number>(rows), amount = new Float64Array(rows), qty = new Int32Array(rows);
  const acct = new Array<string>(rows), region = new Array<string>(rows), status = new Array<string | null>(rows);
  const flag = new Array<boolean>(rows), day = new Array<Date>(rows), score = new Float64Array(rows), note = new Array<string>(rows);
  const regions = ['north', 'south', 'east', 'west', 'central'];
  const statuses = ['open', 'closed', 'pending', 'defaulted'];
  let seed = 42;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296;
  for (let i = 0; i < rows; i++) {
    id[i] = i;
    amount[i] = Math.round(rnd() * 1e6) / 100;
    qty[i] = (rnd() * 1000) | 0;
    acct[i] = `ACC${String(Math.floor(rnd() * 1e12)).padStart(12, '0')}`;
    region[i] = regions[(rnd() * 5) | 0]!;
    status[i] = rnd() < 0.05 ? null : statuses[(rnd() * 4) | 0]!;
    flag[i] = rnd() < 0.5;
    day[i] = new Date(Date.UTC(2020, 0, 1 + ((rnd() * 1500) | 0)));
    score[i] = rnd();
    note[i] = `txn-${i.toString(36)}-${((rnd() * 1e9) | 0).toString(16)}`;
  }
  return aq.table({ id, amount, qty, acct, region, status, flag, day, score, note });
}
