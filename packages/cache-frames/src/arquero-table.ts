import { Column, Table, Type, type Batch } from '@uwdata/flechette';
import { fromArrow, type ColumnTable } from 'arquero';

type DictionaryBatch = Batch<unknown> & { dictionary?: Column<unknown>; setDictionary(dictionary: Column<unknown>): DictionaryBatch };

/**
 * An arquero table over a flechette table. arquero 8.0 reads a dictionary column of several
 * record batches with nulls wrongly: its null-key pass reads one validity byte past each batch
 * and marks up to 8 rows of the next batch as null (a 4,000-row column in 1,024-row batches had
 * 22 wrong cells). A stored table of more than one batch per column, or an Arrow file written
 * that way, hits it. Such columns are handed to arquero as one batch (their keys and validity
 * joined, the dictionary kept), where that pass is right; a column whose batches do not share
 * one dictionary (replacement dictionaries, which this package never writes) is handed over
 * as its decoded values instead.
 */
export function toArqueroTable(table: Table): ColumnTable {
  const children = table.children as Column<unknown>[];
  const plain = new Map<string, unknown[]>();
  const safe = children.map((column, i) => {
    if (column.type.typeId !== Type.Dictionary || column.data.length < 2 || column.nullCount === 0) return column;
    const joined = joinDictionaryBatches(column);
    if (!joined) plain.set(table.schema.fields[i]!.name, column.toArray() as unknown[]);
    return joined ?? column;
  });
  const out = fromArrow((safe.every((c, i) => c === children[i]) ? table : new Table(table.schema, safe)) as never) as ColumnTable;
  return plain.size === 0 ? out : out.assign(Object.fromEntries(plain));
}

/** One batch holding every batch of a dictionary column, or undefined when they do not share one dictionary. */
function joinDictionaryBatches(column: Column<unknown>): Column<unknown> | undefined {
  const batches = column.data as DictionaryBatch[];
  const last = batches.at(-1)!.dictionary;
  if (!last) return undefined;
  // Delta dictionaries only append: each batch's dictionary is then a prefix of the last one.
  const isPrefix = (d: Column<unknown> | undefined) => d !== undefined && d.data.length <= last.data.length && d.data.every((b, i) => b === last.data[i]);
  if (!batches.every((b) => isPrefix(b.dictionary))) return undefined;
  const first = batches[0]!;
  const KeysType = (first.values as Int32Array).constructor as new (length: number) => Int32Array;
  const keys = new KeysType(column.length);
  const validity = new Uint8Array(Math.ceil(column.length / 8));
  let at = 0;
  for (const batch of batches) {
    keys.set((batch.values as Int32Array).subarray(0, batch.length), at);
    for (let i = 0; i < batch.length; i++) {
      if (batch.nullCount === 0 || batch.isValid(i)) validity[(at + i) >> 3]! |= 1 << ((at + i) & 7);
    }
    at += batch.length;
  }
  const BatchType = first.constructor as new (options: object) => DictionaryBatch;
  const joined = new BatchType({ length: column.length, nullCount: column.nullCount, type: column.type, validity, values: keys }).setDictionary(last);
  return new Column([joined], column.type);
}
