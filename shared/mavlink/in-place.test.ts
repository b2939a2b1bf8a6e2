import { common, minimal } from 'node-mavlink';
import { describe, expect, it } from 'vitest';
import { FrameEncoder, FrameParser, SIGNATURE_LEN } from './frame.js';
import { fieldOffsets, InPlaceMessage } from './in-place.js';
import { MavlinkLink } from './link.js';
import { appendSignature, signFrameInPlace } from './signing.js';
import type { Transport, TransportCounters } from './transport.js';

const SETPOINT = common.SetPositionTargetLocalNed;
const FLOATS = ['x', 'y', 'z', 'vx', 'vy', 'vz', 'afx', 'afy', 'afz', 'yaw', 'yawRate'] as const;
const AT = fieldOffsets(SETPOINT, [
  ...FLOATS,
  'timeBootMs',
  'typeMask',
  'targetSystem',
  'targetComponent',
  'coordinateFrame',
]);

/** A seeded generator (mulberry32): the same cases on every run, and a failure names its case. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Floats as setpoints carry them, plus the awkward ones: zeros (truncation), -0, rounding, overflow, subnormals. */
function randomFloat(r: () => number): number {
  const k = r();
  if (k < 0.25) return 0;
  if (k < 0.3) return -0;
  if (k < 0.35) return (r() - 0.5) * 1e39; // beyond float32: Infinity on the wire
  if (k < 0.4) return (r() - 0.5) * 1e-40; // float32 subnormal
  if (k < 0.45) return Math.round((r() - 0.5) * 100);
  return (r() - 0.5) * 2 * 10 ** Math.floor(r() * 6 - 2);
}

/** A random setpoint, written both as node-mavlink's message object and in place. Small ints are often zero. */
function randomSetpoint(r: () => number, inPlace: InPlaceMessage): common.SetPositionTargetLocalNed {
  const m = new SETPOINT();
  const small = (max: number) => (r() < 0.3 ? 0 : Math.floor(r() * (max + 1)));
  m.timeBootMs = r() < 0.1 ? 0 : Math.floor(r() * 2 ** 32) >>> 0;
  m.typeMask = small(0xffff) as common.PositionTargetTypemask;
  m.targetSystem = small(255);
  m.targetComponent = small(255);
  m.coordinateFrame = small(21) as common.MavFrame;
  for (const f of FLOATS) m[f] = randomFloat(r);
  const p = inPlace.payload;
  for (const f of FLOATS) p.setFloat32(AT[f], m[f], true);
  p.setUint32(AT.timeBootMs, m.timeBootMs, true);
  p.setUint16(AT.typeMask, m.typeMask, true);
  p.setUint8(AT.targetSystem, m.targetSystem);
  p.setUint8(AT.targetComponent, m.targetComponent);
  p.setUint8(AT.coordinateFrame, m.coordinateFrame);
  return m;
}

class RecordingTransport implements Transport {
  readonly mode = 'datagram' as const;
  readonly counters: TransportCounters = { bytesIn: 0, bytesOut: 0, sendErrors: 0, noPeerDrops: 0 };
  readonly sent: Buffer[] = [];
  open = async (): Promise<void> => {};
  close = async (): Promise<void> => {};
  send(bytes: Buffer): void {
    this.sent.push(bytes);
  }
  onData(): void {}
  describe(): string {
    return 'recording';
  }
}

describe('InPlaceMessage', () => {
  it('frames SET_POSITION_TARGET_LOCAL_NED byte for byte as node-mavlink serializes it, over 5000 random setpoints', () => {
    const r = rng(84);
    const reference = new FrameEncoder(42, 191);
    const ours = new FrameEncoder(42, 191);
    const inPlace = new InPlaceMessage(SETPOINT);
    const lengths = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const m = randomSetpoint(r, inPlace);
      const expected = reference.encode(m);
      const actual = ours.encodeInPlace(inPlace);
      expect(actual.toString('hex'), `case ${i}: ${JSON.stringify(m)}`).toBe(expected.toString('hex'));
      lengths.add(actual.length);
    }
    // The cases reach full length and many truncations, and the sequence wrapped (5000 > 256) in step.
    expect(lengths.has(10 + SETPOINT.PAYLOAD_LENGTH + 2)).toBe(true);
    expect(lengths.size).toBeGreaterThanOrEqual(8);
    // The extremes: an all-zero payload (node-mavlink sends it empty) and one whose only non-zero byte is the first.
    inPlace.payloadBytes.fill(0);
    const zero = new SETPOINT();
    zero.coordinateFrame = 0 as common.MavFrame;
    zero.typeMask = 0 as common.PositionTargetTypemask;
    expect(ours.encodeInPlace(inPlace).toString('hex')).toBe(reference.encode(zero).toString('hex'));
    zero.timeBootMs = 1;
    inPlace.payload.setUint32(AT.timeBootMs, 1, true);
    const one = ours.encodeInPlace(inPlace);
    expect(one.toString('hex')).toBe(reference.encode(zero).toString('hex'));
    expect(one[1]).toBe(1);
  });

  it('signs byte for byte as encodeForSigning plus appendSignature, and the frames parse as signed', () => {
    const r = rng(7);
    const key = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) key[i] = Math.floor(r() * 256);
    const reference = new FrameEncoder(1, 191);
    const ours = new FrameEncoder(1, 191);
    const inPlace = new InPlaceMessage(SETPOINT);
    const parser = new FrameParser('datagram');
    let parsed = 0;
    for (let i = 0; i < 500; i++) {
      const m = randomSetpoint(r, inPlace);
      const linkId = Math.floor(r() * 256);
      const timestamp = 3e12 + i * 97;
      const expected = appendSignature(reference.encodeForSigning(m), key, linkId, timestamp);
      const actual = ours.encodeInPlace(inPlace, true, SIGNATURE_LEN);
      signFrameInPlace(actual, key, linkId, timestamp);
      expect(actual.toString('hex'), `case ${i}`).toBe(expected.toString('hex'));
      parser.push(actual, (f) => {
        if (f.signed) parsed++;
      });
    }
    expect(parsed).toBe(500);
  });

  it('keeps one sequence with the other messages of its link, signed or not, and sends a new buffer each time', () => {
    for (const signing of [undefined, { key: Buffer.alloc(32, 3), linkId: 5 }]) {
      const transport = new RecordingTransport();
      const link = new MavlinkLink(transport, { sysid: 1, compid: 191, signing, nowMs: () => 1.8e12 });
      const inPlace = new InPlaceMessage(SETPOINT);
      inPlace.payload.setUint8(AT.coordinateFrame, 1);
      link.send(new minimal.Heartbeat());
      const first = link.sendInPlace(inPlace);
      inPlace.payload.setFloat32(AT.vx, 2.5, true);
      link.sendInPlace(inPlace);
      link.send(new minimal.Heartbeat());
      expect(transport.sent.map((b) => b[4])).toEqual([0, 1, 2, 3]);
      expect(transport.sent[1]).toBe(first);
      // The first frame sent is not changed by the next one (transports may hold the bytes).
      expect(first.readFloatLE(10 + AT.vx)).toBe(0);
      expect(transport.sent[2].readFloatLE(10 + AT.vx)).toBe(2.5);
      const frames: number[] = [];
      new FrameParser('datagram').push(Buffer.concat(transport.sent), (f) => frames.push(f.msgid));
      expect(frames).toEqual([0, SETPOINT.MSG_ID, SETPOINT.MSG_ID, 0]);
      expect(transport.sent.every((b) => (b[2] & 1) === (signing ? 1 : 0))).toBe(true);
    }
  });

  it('refuses a field name the message does not have', () => {
    expect(() => fieldOffsets(SETPOINT, ['vx', 'velocityX'])).toThrow(
      /SET_POSITION_TARGET_LOCAL_NED has no field velocityX/,
    );
  });
});
