import { readFileSync } from 'node:fs';
import { common } from 'node-mavlink';
import { describe, expect, it } from 'vitest';
import { PX4_REFERENCE_TLOG } from '../../test/fixtures/index.js';
import { decodeFrame, type Frame, FrameParser } from './frame.js';
import { InPlaceDecoder } from './in-place-decode.js';
import type { MessageClass } from './registry.js';
import { readTlog } from './tlog.js';

const IN_PLACE_TYPES = /^(u?int(8|16|32)_t|float|double)(\[\])?$/;

/** Every field of a message that can be read in place (numbers and number arrays; not char or 64-bit ints). */
function numericFields(cls: MessageClass): string[] {
  return cls.FIELDS.filter((f) => IN_PLACE_TYPES.test(f.type)).map((f) => f.name);
}

/** Every frame of the recorded PX4 v1.15.4 session, both directions. */
function recordedFrames(): Frame[] {
  const frames: Frame[] = [];
  const parser = new FrameParser('datagram');
  for (const r of readTlog(readFileSync(PX4_REFERENCE_TLOG))) parser.push(r.frame, (f) => frames.push(f));
  return frames;
}

describe('InPlaceDecoder', () => {
  it("reads every numeric field of every recorded message as node-mavlink's deserializer does", () => {
    const frames = recordedFrames();
    const decoders = new Map<number, InPlaceDecoder<string>>();
    const kinds = new Set<string>();
    let truncated = 0;
    for (const frame of frames) {
      let decoder = decoders.get(frame.msgid);
      if (decoder === undefined) {
        decoder = new InPlaceDecoder(frame.cls, numericFields(frame.cls));
        decoders.set(frame.msgid, decoder);
      }
      const expected = decodeFrame(frame) as unknown as Record<string, unknown>;
      // As the link reads it: from the received bytes, no payload view.
      const actual = decoder.decodeAt(frame.buffer, frame.payloadStart, frame.payloadEnd) as Record<string, unknown>;
      const want: Record<string, unknown> = {};
      for (const name of Object.keys(actual)) want[name] = expected[name];
      // Copied: the decoder's record is rewritten by its next decode.
      expect(structuredClone(actual), `${frame.cls.MSG_NAME} seq ${frame.seq}`).toEqual(want);
      kinds.add(frame.cls.MSG_NAME);
      if (frame.payload.length < frame.cls.PAYLOAD_LENGTH) truncated++;
    }
    // The whole stream: every message type PX4 sent, most of them with MAVLink 2's trailing zeros cut.
    expect(frames.length).toBeGreaterThan(19_000);
    expect(kinds.size).toBeGreaterThan(30);
    expect(truncated).toBeGreaterThan(frames.length / 4);
  });

  it('tells -0 from 0 and reads NaN, infinities and array elements past a truncated end as node-mavlink does', () => {
    const cls = common.BatteryStatus as unknown as MessageClass;
    const decoder = new InPlaceDecoder(cls, ['voltages', 'voltagesExt', 'batteryRemaining', 'id', 'currentConsumed']);
    const full = Buffer.alloc(cls.PAYLOAD_LENGTH);
    full.writeInt32LE(-5, 0);
    full.writeUInt16LE(16_000, 10);
    full.writeUInt16LE(0xffff, 12);
    full.writeInt8(-1, 35);
    full.writeUInt16LE(4_000, 41);
    for (let cut = 0; cut <= cls.PAYLOAD_LENGTH; cut++) {
      const payload = full.subarray(0, cut);
      const frame = { payload, cls } as Frame;
      const expected = decodeFrame(frame) as unknown as Record<string, unknown>;
      const actual = decoder.decode(payload);
      expect(structuredClone(actual), `cut at ${cut}`).toEqual({
        voltages: expected.voltages,
        voltagesExt: expected.voltagesExt,
        batteryRemaining: expected.batteryRemaining,
        id: expected.id,
        currentConsumed: expected.currentConsumed,
      });
    }
    const att = common.Attitude as unknown as MessageClass;
    const floats = new InPlaceDecoder(att, ['roll', 'pitch', 'yaw']);
    const p = Buffer.alloc(att.PAYLOAD_LENGTH);
    p.writeFloatLE(-0, 4);
    p.writeFloatLE(Number.NaN, 8);
    p.writeFloatLE(Number.NEGATIVE_INFINITY, 12);
    const d = floats.decode(p);
    expect(Object.is(d.roll, -0)).toBe(true);
    expect(d.pitch).toBeNaN();
    expect(d.yaw).toBe(Number.NEGATIVE_INFINITY);
  });

  it('refuses a field the message does not have, or one it cannot read in place', () => {
    const cls = common.Attitude as unknown as MessageClass;
    expect(() => new InPlaceDecoder(cls, ['rol'])).toThrow(/has no field rol/);
    expect(() => new InPlaceDecoder(common.GpsRawInt as unknown as MessageClass, ['timeUsec'])).toThrow(/uint64/);
  });
});
