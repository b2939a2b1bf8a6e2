/**
 * Messages written in place, for streams sent every control tick: the caller keeps one `InPlaceMessage` per stream,
 * writes the payload fields at their wire offsets through a DataView, and the link frames it (MAVLink 2 header with
 * the link's sequence, trailing-zero truncation, CRC with the message's CRC_EXTRA, signature when signing). No
 * message object, no per-field serializer lookups: the bytes equal node-mavlink's serialization of the same values
 * (frame.test.ts checks it over many random messages).
 *
 * Fields keep their last written value between sends, as a reused node-mavlink message object does.
 */
import type { MessageClass } from './registry.js';

const STX_V2 = 0xfd;
export const V2_HEADER_LEN = 10;
export const CRC_LEN = 2;
const IFLAG_SIGNED = 0x01;

/**
 * Wire offsets of the named payload fields (node-mavlink property names, e.g. `timeBootMs`). Throws on a name the
 * message does not have, so a typo fails at load, not as a write at offset 0.
 */
export function fieldOffsets<K extends string>(cls: MessageClass, names: readonly K[]): Readonly<Record<K, number>> {
  const offsets = {} as Record<K, number>;
  for (const name of names) {
    const field = cls.FIELDS.find((f) => f.name === name);
    if (field === undefined) throw new Error(`${cls.MSG_NAME} has no field ${name}`);
    offsets[name] = field.offset;
  }
  return Object.freeze(offsets);
}

/** X.25 CRC (MAVLink's CRC-16/MCRF4XX) of bytes [start, end), then the CRC_EXTRA byte. */
export function x25Crc(bytes: Uint8Array, start: number, end: number, crcExtra: number): number {
  let crc = 0xffff;
  for (let i = start; i <= end; i++) {
    const byte = i < end ? bytes[i] : crcExtra;
    let t = (byte ^ crc) & 0xff;
    t = (t ^ (t << 4)) & 0xff;
    crc = ((crc >> 8) ^ (t << 8) ^ (t << 3) ^ (t >> 4)) & 0xffff;
  }
  return crc;
}

export class InPlaceMessage {
  readonly msgid: number;
  readonly crcExtra: number;
  /** The untruncated payload; write fields through `payload`. */
  readonly payloadBytes: Uint8Array;
  /** Little-endian field writes at the message's wire offsets (`setFloat32(offset, value, true)`). */
  readonly payload: DataView;

  constructor(cls: MessageClass) {
    this.msgid = cls.MSG_ID;
    this.crcExtra = cls.MAGIC_NUMBER;
    this.payloadBytes = new Uint8Array(cls.PAYLOAD_LENGTH);
    this.payload = new DataView(this.payloadBytes.buffer);
  }

  /** The payload length on the wire: trailing zero bytes are not sent (MAVLink 2), as node-mavlink truncates. */
  wirePayloadLength(): number {
    const p = this.payloadBytes;
    let n = p.length;
    while (n > 0 && p[n - 1] === 0) n--;
    return n;
  }

  /** Bytes of the whole frame, without the 13-byte signature block. */
  frameLength(): number {
    return V2_HEADER_LEN + this.wirePayloadLength() + CRC_LEN;
  }

  /**
   * Write the frame (header, truncated payload, CRC; not the signature) at the start of `out`, which must hold
   * `frameLength()` bytes. `signed` sets the signed flag, which the CRC covers. Returns the length written.
   */
  writeFrame(out: Uint8Array, seq: number, sysid: number, compid: number, signed: boolean): number {
    const plen = this.wirePayloadLength();
    out[0] = STX_V2;
    out[1] = plen;
    out[2] = signed ? IFLAG_SIGNED : 0;
    out[3] = 0;
    out[4] = seq;
    out[5] = sysid;
    out[6] = compid;
    out[7] = this.msgid & 0xff;
    out[8] = (this.msgid >> 8) & 0xff;
    out[9] = (this.msgid >> 16) & 0xff;
    const p = this.payloadBytes;
    for (let i = 0; i < plen; i++) out[V2_HEADER_LEN + i] = p[i];
    const crcAt = V2_HEADER_LEN + plen;
    const crc = x25Crc(out, 1, crcAt, this.crcExtra);
    out[crcAt] = crc & 0xff;
    out[crcAt + 1] = crc >> 8;
    return crcAt + CRC_LEN;
  }
}
