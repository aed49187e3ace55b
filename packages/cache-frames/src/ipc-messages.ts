/**
 * Splits an Arrow IPC stream into its messages, so that a column's stream can be stored as
 * chunks that each hold whole messages: the first chunk has the schema and dictionaries, the
 * others only record batches. Arrow readers accept such chunks in order as one stream.
 */

/** Arrow's MessageHeader values. */
export const MessageType = { schema: 1, dictionary: 2, recordBatch: 3 } as const;

/** One message of a stream: its type and its byte range (prefix, metadata and body). */
export interface IpcMessage {
  type: number;
  start: number;
  end: number;
}

/** The messages of an IPC stream, without the end-of-stream marker. Throws on a malformed stream. */
export function splitIpcMessages(bytes: Uint8Array): IpcMessage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: IpcMessage[] = [];
  let offset = 0;
  while (offset + 8 <= bytes.byteLength) {
    const start = offset;
    let metaLength = view.getInt32(offset, true);
    offset += 4;
    if (metaLength === -1) {
      metaLength = view.getInt32(offset, true);
      offset += 4;
    }
    if (metaLength === 0) break; // end of stream
    const meta = offset;
    if (metaLength < 0 || meta + metaLength > bytes.byteLength) throw new Error(`IPC message at byte ${start} overruns the stream`);
    // The metadata is a flatbuffer `Message` table: root offset, then a vtable giving the
    // positions of fields 1 (header type, uint8) and 3 (body length, int64).
    const table = meta + view.getUint32(meta, true);
    const vtable = table - view.getInt32(table, true);
    const vtableLength = view.getUint16(vtable, true);
    const field = (index: number) => {
      const at = 4 + index * 2;
      return at < vtableLength ? view.getUint16(vtable + at, true) : 0;
    };
    const typeAt = field(1);
    const bodyAt = field(3);
    const type = typeAt ? view.getUint8(table + typeAt) : 0;
    const bodyLength = bodyAt ? Number(view.getBigInt64(table + bodyAt, true)) : 0;
    offset = meta + metaLength + bodyLength;
    if (offset > bytes.byteLength) throw new Error(`IPC message at byte ${start} has a body past the end of the stream`);
    messages.push({ type, start, end: offset });
  }
  return messages;
}
