/**
 * Messages read in place, for telemetry received hundreds of times a second: the chosen numeric fields of a received
 * payload are read at their wire offsets into one record per message type, reused for every message of that type.
 * No node-mavlink message object, no per-field deserializer lookup, no padded copy of a truncated payload: bytes past
 * a MAVLink 2 payload's truncated end read as zero, as node-mavlink's padding makes them. The values equal
 * node-mavlink's deserialization of the same payload (in-place-decode.test.ts checks every message of the recorded
 * PX4 stream).
 *
 * The record is the decoder's own and is rewritten by its next `decode`: read it at once, do not keep it.
 */
import type { MessageClass } from './registry.js';

/** A field's reader: its wire offset, element type and (for arrays) length. */
interface FieldReader {
  readonly name: string;
  readonly offset: number;
  readonly type: ElementType;
  /** 0 for a single value; the element count for an array field. */
  readonly length: number;
  readonly size: number;
}

type ElementType = 'int8_t' | 'uint8_t' | 'int16_t' | 'uint16_t' | 'int32_t' | 'uint32_t' | 'float' | 'double';

const ELEMENT_TYPES: readonly string[] = [
  'int8_t',
  'uint8_t',
  'int16_t',
  'uint16_t',
  'int32_t',
  'uint32_t',
  'float',
  'double',
] satisfies ElementType[];

/** The decoded fields: numbers, and number arrays for array fields. */
export type DecodedFields<K extends string> = { readonly [P in K]: number | number[] };

export class InPlaceDecoder<K extends string> {
  readonly msgid: number;
  /** The record `decode` rewrites (node-mavlink's property names). */
  readonly fields: Record<K, number | number[]>;
  private readonly readers: readonly FieldReader[];
  /** The payload copied here, zero past its received end. */
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  /**
   * Throws on a name the message does not have, or a field that is not a number or a number array (char, 64-bit
   * ints): a mistake fails at load, not as a wrong value in flight.
   */
  constructor(cls: MessageClass, names: readonly K[]) {
    this.msgid = cls.MSG_ID;
    const readers: FieldReader[] = [];
    const fields = {} as Record<K, number | number[]>;
    for (const name of names) {
      const field = cls.FIELDS.find((f) => f.name === name);
      if (field === undefined) throw new Error(`${cls.MSG_NAME} has no field ${name}`);
      const array = field.type.endsWith('[]');
      const type = array ? field.type.slice(0, -2) : field.type;
      if (!ELEMENT_TYPES.includes(type)) throw new Error(`${cls.MSG_NAME}.${name} is ${field.type}: not read in place`);
      const length = array ? field.length : 0;
      readers.push({ name, offset: field.offset, type: type as ElementType, length, size: field.size });
      fields[name] = array ? new Array<number>(length).fill(0) : 0;
    }
    this.readers = readers;
    this.fields = fields;
    this.bytes = new Uint8Array(cls.PAYLOAD_LENGTH);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Read the fields of `payload` (as received: MAVLink 2 may have cut trailing zeros) into `fields`. */
  decode(payload: Uint8Array): DecodedFields<K> {
    return this.decodeAt(payload, 0, payload.length);
  }

  /** `decode` of the payload at [start, end) of `source` (a received frame's buffer: no view made). */
  decodeAt(source: Uint8Array, start: number, end: number): DecodedFields<K> {
    const bytes = this.bytes;
    const n = end - start < bytes.length ? end - start : bytes.length;
    for (let i = 0; i < n; i++) bytes[i] = source[start + i];
    for (let i = n; i < bytes.length; i++) bytes[i] = 0;
    const fields = this.fields as Record<string, number | number[]>;
    for (let i = 0; i < this.readers.length; i++) {
      const r = this.readers[i];
      if (r.length === 0) {
        fields[r.name] = this.read(r.type, r.offset);
      } else {
        const out = fields[r.name] as number[];
        for (let j = 0; j < r.length; j++) out[j] = this.read(r.type, r.offset + j * r.size);
      }
    }
    return this.fields;
  }

  private read(type: ElementType, offset: number): number {
    const v = this.view;
    switch (type) {
      case 'int8_t':
        return v.getInt8(offset);
      case 'uint8_t':
        return v.getUint8(offset);
      case 'int16_t':
        return v.getInt16(offset, true);
      case 'uint16_t':
        return v.getUint16(offset, true);
      case 'int32_t':
        return v.getInt32(offset, true);
      case 'uint32_t':
        return v.getUint32(offset, true);
      case 'float':
        return v.getFloat32(offset, true);
      case 'double':
        return v.getFloat64(offset, true);
    }
  }
}
