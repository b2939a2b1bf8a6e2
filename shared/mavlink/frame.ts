/**
 * MAVLink framing: a synchronous parser that turns bytes into checked frames, and an encoder that keeps a sequence
 * counter per link and writes MAVLink 2 (optionally signed). Built on node-mavlink's CRC, magic numbers, field
 * (de)serializers and signature maths; its stream classes and module-global sequence are avoided on purpose.
 * Bad bytes are counted, never thrown.
 */
import { type MavLinkData, MavLinkProtocolV2 } from 'node-mavlink';
import { type InPlaceMessage, x25Crc } from './in-place.js';
import { MESSAGE_BY_ID, type MessageClass } from './registry.js';

const STX_V1 = 0xfe;
const STX_V2 = 0xfd;
const V1_HEADER = 6;
const V2_HEADER = 10;
const CRC_LEN = 2;
export const SIGNATURE_LEN = 13;
const IFLAG_SIGNED = 0x01;

/** One checked frame. `payload` is as received (MAVLink 2 may truncate trailing zeros). */
export interface Frame {
  readonly version: 1 | 2;
  readonly seq: number;
  readonly sysid: number;
  readonly compid: number;
  readonly msgid: number;
  readonly payload: Buffer;
  /** The whole frame as received, including the signature when signed. */
  readonly raw: Buffer;
  readonly signed: boolean;
  readonly cls: MessageClass;
  /** The bytes the frame was parsed from and where its payload lies in them (in-place readers need no view). */
  readonly buffer: Uint8Array;
  readonly payloadStart: number;
  readonly payloadEnd: number;
}

/**
 * A parsed frame. `payload` and `raw` are views made on first use: most frames of a telemetry stream are read in
 * place or not at all, and a Buffer view costs more than the rest of the frame.
 */
class ParsedFrame implements Frame {
  private payloadView: Buffer | null = null;
  private rawView: Buffer | null = null;

  constructor(
    readonly version: 1 | 2,
    readonly seq: number,
    readonly sysid: number,
    readonly compid: number,
    readonly msgid: number,
    readonly signed: boolean,
    readonly cls: MessageClass,
    readonly buffer: Buffer,
    private readonly start: number,
    readonly payloadStart: number,
    readonly payloadEnd: number,
    private readonly end: number,
  ) {}

  get payload(): Buffer {
    if (this.payloadView === null) this.payloadView = this.buffer.subarray(this.payloadStart, this.payloadEnd);
    return this.payloadView;
  }

  get raw(): Buffer {
    if (this.rawView === null) this.rawView = this.buffer.subarray(this.start, this.end);
    return this.rawView;
  }
}

/** Counters a parser keeps; exported in link stats. */
export interface ParseCounters {
  frames: number;
  /** Frames with a CRC mismatch (corrupted or truncated). */
  badCrc: number;
  /** Frames whose message id this project does not know (skipped whole). */
  unknown: number;
  /** Bytes skipped while searching for a start byte. */
  junkBytes: number;
}

const protocol = new MavLinkProtocolV2();

/**
 * Parses a byte stream (serial) or datagrams (UDP) into frames. Keeps a partial frame across `push` calls in stream
 * mode; in datagram mode each datagram stands alone, as MAVLink over UDP sends whole frames per datagram.
 */
export class FrameParser {
  readonly counters: ParseCounters = { frames: 0, badCrc: 0, unknown: 0, junkBytes: 0 };
  private pending: Buffer | null = null;

  constructor(private readonly mode: 'stream' | 'datagram' = 'stream') {}

  /** Feed bytes; `onFrame` is called for each valid frame, in order. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let off = 0;
    const len = buf.length;
    while (off < len) {
      const stx = buf[off];
      if (stx !== STX_V2 && stx !== STX_V1) {
        // Skip to the next start byte; count the junk.
        let next = off + 1;
        while (next < len && buf[next] !== STX_V2 && buf[next] !== STX_V1) next++;
        this.counters.junkBytes += next - off;
        off = next;
        continue;
      }
      const v2 = stx === STX_V2;
      const headerLen = v2 ? V2_HEADER : V1_HEADER;
      if (len - off < headerLen + CRC_LEN) break;
      const plen = buf[off + 1];
      const signed = v2 && (buf[off + 2] & IFLAG_SIGNED) !== 0;
      const frameLen = headerLen + plen + CRC_LEN + (signed ? SIGNATURE_LEN : 0);
      if (len - off < frameLen) break;
      const msgid = v2 ? buf[off + 7] | (buf[off + 8] << 8) | (buf[off + 9] << 16) : buf[off + 5];
      const cls = MESSAGE_BY_ID.get(msgid);
      if (cls === undefined) {
        this.counters.unknown++;
        off += frameLen;
        continue;
      }
      const crcAt = off + headerLen + plen;
      const crc = buf[crcAt] | (buf[crcAt + 1] << 8);
      if (x25Crc(buf, off + 1, crcAt, cls.MAGIC_NUMBER) !== crc) {
        // A start byte inside junk looks like a frame: resync one byte on.
        this.counters.badCrc++;
        this.counters.junkBytes++;
        off += 1;
        continue;
      }
      this.counters.frames++;
      onFrame(
        new ParsedFrame(
          v2 ? 2 : 1,
          buf[off + (v2 ? 4 : 2)],
          buf[off + (v2 ? 5 : 3)],
          buf[off + (v2 ? 6 : 4)],
          msgid,
          signed,
          cls,
          buf,
          off,
          off + headerLen,
          crcAt,
          off + frameLen,
        ),
      );
      off += frameLen;
    }
    if (off < len) {
      if (this.mode === 'stream') this.pending = Buffer.from(buf.subarray(off));
      else this.counters.junkBytes += len - off;
    }
  }
}

/** Decode a frame's payload into its node-mavlink message object. Never throws on short (truncated) payloads. */
export function decodeFrame<T extends MavLinkData = MavLinkData>(frame: Frame): T {
  return protocol.data(frame.payload, frame.cls) as T;
}

/** Identity and counter of one side of a link: every link has its own sequence. */
export class FrameEncoder {
  private seq = 0;
  private readonly proto: MavLinkProtocolV2;
  private readonly signedProto: MavLinkProtocolV2;

  constructor(
    readonly sysid: number,
    readonly compid: number,
  ) {
    this.proto = new MavLinkProtocolV2(sysid, compid);
    this.signedProto = new MavLinkProtocolV2(sysid, compid, IFLAG_SIGNED);
  }

  /** Serialize one message as MAVLink 2 with this link's next sequence number. */
  encode(message: MavLinkData): Buffer {
    const frame = this.proto.serialize(message, this.seq);
    this.seq = (this.seq + 1) & 0xff;
    return frame;
  }

  /**
   * Frame a message written in place, with this link's next sequence number, into a new buffer of exactly its
   * length plus `spareBytes` at the end (13 for a signature block). With `signed` the signed flag is set (the CRC
   * covers it), ready for `signFrameInPlace`. The bytes equal `encode`/`encodeForSigning` of the same values.
   */
  encodeInPlace(message: InPlaceMessage, signed = false, spareBytes = 0): Buffer {
    // A new buffer per frame (from Node's pool): the transport may hold the bytes after send returns (UDP until its
    // address lookup's tick, a recorder for good), so the frame must not be reused.
    const out = Buffer.allocUnsafe(message.frameLength() + spareBytes);
    message.writeFrame(out, this.seq, this.sysid, this.compid, signed);
    this.seq = (this.seq + 1) & 0xff;
    return out;
  }

  /**
   * Serialize with the signed flag set (it is part of the CRC), ready for `appendSignature`. The caller owns the key,
   * link id and timestamp (see signing.ts).
   */
  encodeForSigning(message: MavLinkData): Buffer {
    const frame = this.signedProto.serialize(message, this.seq);
    this.seq = (this.seq + 1) & 0xff;
    return frame;
  }
}
