import {
  DateUnit, TimeUnit, Type, bool, dateDay, dictionary, float32, float64, int32, int64, timestamp, utf8,
  type DataType,
} from '@uwdata/flechette';

/** An Arrow data type as flechette describes it (e.g. `int32()`, `utf8()`, `timestamp(TimeUnit.SECOND, 'UTC')`). */
export type ArrowType = DataType;

/**
 * Column types a caller can name in files and options:
 * `string` (utf8), `dictionary` (dictionary-encoded utf8, good for few distinct values),
 * `integer` (int32, or int64 when values need it), `int32`, `int64`, `bigint` (int64 read back as BigInt),
 * `float` (float64), `float32`, `boolean`, `date` (days, `YYYY-MM-DD`),
 * `timestamp` (milliseconds, UTC, `YYYY-MM-DDTHH:MM:SS.sssZ`).
 */
export type ColumnTypeName =
  | 'string' | 'dictionary' | 'integer' | 'int32' | 'int64' | 'bigint' | 'float' | 'float32' | 'boolean' | 'date' | 'timestamp';

/** The Arrow type of a named column type; `integer` resolves to int32 here. */
export function arrowTypeOf(name: ColumnTypeName): ArrowType {
  switch (name) {
    case 'string': return utf8();
    case 'dictionary': return dictionary(utf8());
    case 'integer':
    case 'int32': return int32();
    case 'int64':
    case 'bigint': return int64();
    case 'float': return float64();
    case 'float32': return float32();
    case 'boolean': return bool();
    case 'date': return dateDay();
    case 'timestamp': return timestamp(TimeUnit.MILLISECOND, 'UTC');
  }
}

const UNIT = ['s', 'ms', 'us', 'ns'];

/** A short readable name of an Arrow type: `int32`, `utf8`, `timestamp[ms, UTC]`, `dictionary<utf8, int32>`. */
export function describeType(type: DataType): string {
  const t = type as DataType & Record<string, unknown>;
  switch (type.typeId) {
    case Type.Null: return 'null';
    case Type.Bool: return 'bool';
    case Type.Int: return `${t.signed ? 'int' : 'uint'}${String(t.bitWidth)}`;
    case Type.Float: return ['float16', 'float32', 'float64'][t.precision as number] ?? 'float';
    case Type.Utf8: return 'utf8';
    case Type.LargeUtf8: return 'large_utf8';
    case Type.Utf8View: return 'utf8_view';
    case Type.Binary: return 'binary';
    case Type.Date: return t.unit === DateUnit.DAY ? 'date32[day]' : 'date64[ms]';
    case Type.Timestamp: return `timestamp[${UNIT[t.unit as number] ?? '?'}${t.timezone ? `, ${String(t.timezone)}` : ''}]`;
    case Type.Time: return `time[${UNIT[t.unit as number] ?? '?'}]`;
    case Type.Duration: return `duration[${UNIT[t.unit as number] ?? '?'}]`;
    case Type.Decimal: return `decimal${String(t.bitWidth)}(${String(t.precision)}, ${String(t.scale)})`;
    case Type.Dictionary:
      return `dictionary<${describeType(t.dictionary as DataType)}, ${describeType(t.indices as DataType)}>`;
    case Type.List: return `list<${describeType((t.children as { type: DataType }[])[0]!.type)}>`;
    case Type.Struct: return `struct<${(t.children as { name: string; type: DataType }[]).map((f) => `${f.name}: ${describeType(f.type)}`).join(', ')}>`;
    default: return `type${type.typeId}`;
  }
}
