import { readFileSync } from 'node:fs';
import { common, minimal } from 'node-mavlink';
import { describe, expect, it } from 'vitest';
import { PX4_REFERENCE_TLOG } from '../../test/fixtures/index.js';
import { decodeFrame, type Frame, FrameEncoder, FrameParser } from './frame.js';
import { readTlog } from './tlog.js';

function heartbeat(customMode = 0x00060000): minimal.Heartbeat {
  const hb = new minimal.Heartbeat();
  hb.type = minimal.MavType.QUADROTOR;
  hb.autopilot = minimal.MavAutopilot.PX4;
  hb.baseMode = 0x9d as minimal.MavModeFlag;
  hb.customMode = customMode;
  hb.systemStatus = minimal.MavState.ACTIVE;
  hb.mavlinkVersion = 3;
  return hb;
}

function collect(parser: FrameParser, bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  parser.push(bytes, (f) => frames.push(f));
  return frames;
}

describe('FrameEncoder / FrameParser', () => {
  it('round-trips a MAVLink 2 message with a per-encoder sequence', () => {
    const a = new FrameEncoder(1, 1);
    const b = new FrameEncoder(2, 191);
    const f1 = a.encode(heartbeat());
    const f2 = a.encode(heartbeat());
    const g1 = b.encode(heartbeat());
    const frames = collect(new FrameParser('datagram'), Buffer.concat([f1, f2, g1]));
    expect(frames.map((f) => [f.sysid, f.compid, f.seq])).toEqual([
      [1, 1, 0],
      [1, 1, 1],
      [2, 191, 0],
    ]);
    const hb = decodeFrame<minimal.Heartbeat>(frames[0]);
    expect(hb.customMode).toBe(0x00060000);
    expect(hb.autopilot).toBe(minimal.MavAutopilot.PX4);
  });

  it('wraps the sequence at 256', () => {
    const enc = new FrameEncoder(1, 1);
    let last = -1;
    for (let i = 0; i < 257; i++) last = enc.encode(heartbeat())[4];
    expect(last).toBe(0);
  });

  it('decodes MAVLink 2 zero-truncated payloads', () => {
    const enc = new FrameEncoder(1, 1);
    const msg = new common.CommandAck();
    msg.command = 400 as common.CommandAck['command'];
    msg.result = 0 as common.CommandAck['result'];
    const frame = enc.encode(msg);
    expect(frame[1]).toBeLessThan(10); // trailing zero bytes dropped on the wire
    const [f] = collect(new FrameParser(), frame);
    expect(decodeFrame<common.CommandAck>(f).command).toBe(400);
  });

  it('reassembles frames split across stream chunks', () => {
    const enc = new FrameEncoder(1, 1);
    const bytes = Buffer.concat([enc.encode(heartbeat()), enc.encode(heartbeat()), enc.encode(heartbeat())]);
    const parser = new FrameParser('stream');
    const frames: Frame[] = [];
    for (let i = 0; i < bytes.length; i += 7) parser.push(bytes.subarray(i, i + 7), (f) => frames.push(f));
    expect(frames).toHaveLength(3);
    expect(parser.counters.junkBytes).toBe(0);
  });

  it('counts corrupted bytes and junk, and resyncs on the next good frame', () => {
    const enc = new FrameEncoder(1, 1);
    const bad = Buffer.from(enc.encode(heartbeat()));
    bad[12] ^= 0xff;
    const good = enc.encode(heartbeat());
    const parser = new FrameParser('stream');
    const frames = collect(parser, Buffer.concat([Buffer.from([1, 2, 3]), bad, good]));
    expect(frames).toHaveLength(1);
    expect(frames[0].seq).toBe(1);
    expect(parser.counters.badCrc).toBeGreaterThanOrEqual(1);
    expect(parser.counters.junkBytes).toBeGreaterThanOrEqual(3);
  });

  it('skips unknown message ids whole and counts them', () => {
    const enc = new FrameEncoder(1, 1);
    const frame = Buffer.from(enc.encode(heartbeat()));
    frame.writeUIntLE(0xfffff0, 7, 3); // an id no dialect defines
    const parser = new FrameParser('datagram');
    expect(collect(parser, Buffer.concat([frame, enc.encode(heartbeat())]))).toHaveLength(1);
    expect(parser.counters.unknown).toBe(1);
  });

  it('never throws on random bytes', () => {
    const parser = new FrameParser('stream');
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    for (let i = 0; i < 2000; i++) {
      const chunk = Buffer.alloc(1 + (rnd() % 64));
      for (let j = 0; j < chunk.length; j++) chunk[j] = rnd() % 5 === 0 ? 0xfd : rnd();
      parser.push(chunk, (f) => decodeFrame(f));
    }
    expect(parser.counters.junkBytes).toBeGreaterThan(0);
  });
});

describe('the recorded PX4 v1.15.4 SITL conversation', () => {
  const records = readTlog(readFileSync(PX4_REFERENCE_TLOG));

  it('parses every frame PX4 and the client sent, with only PX4-specific ids unknown', () => {
    const parser = new FrameParser('datagram');
    const byId = new Map<number, number>();
    for (const r of records) parser.push(r.frame, (f) => byId.set(f.msgid, (byId.get(f.msgid) ?? 0) + 1));
    expect(records.length).toBe(19_336); // every record of the file, none lost to a misread length
    expect(parser.counters.badCrc).toBe(0);
    expect(parser.counters.junkBytes).toBe(0);
    // Ids outside node-mavlink's dialects (PX4 development messages) are the only ones skipped.
    expect(parser.counters.frames + parser.counters.unknown).toBe(records.length);
    expect(parser.counters.unknown).toBeLessThan(records.length * 0.01);
    expect(byId.get(0)).toBeGreaterThan(100); // HEARTBEATs of both sides
    expect(byId.get(84)).toBeGreaterThan(700); // the client's SET_POSITION_TARGET_LOCAL_NED
  });

  it('shows PX4 acknowledging the mode switch and, eventually, the arm command', () => {
    const parser = new FrameParser('datagram');
    const acks: { command: number; result: number }[] = [];
    for (const r of records) {
      parser.push(r.frame, (f) => {
        if (f.msgid === common.CommandAck.MSG_ID && f.sysid === 1) {
          const ack = decodeFrame<common.CommandAck>(f);
          acks.push({ command: ack.command, result: ack.result });
        }
      });
    }
    const arm = acks.filter((a) => a.command === 400);
    expect(arm[0].result).toBe(1); // TEMPORARILY_REJECTED without a setpoint stream
    expect(arm.at(-1)?.result).toBe(0); // ACCEPTED once the estimator settled and the stream ran
    expect(acks.some((a) => a.command === 176 && a.result === 0)).toBe(true);
  });
});
