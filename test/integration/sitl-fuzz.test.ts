/**
 * Fuzz: random and corrupted datagrams at a flying vehicle over real UDP (random bytes, truncated frames, wrong
 * CRCs, unknown message ids, valid frames with garbage payloads, commands with NaN and infinite parameters). The
 * vehicle must keep flying and answering, and count what it refused.
 */
import { createSocket } from 'node:dgram';
import { x25crc } from 'node-mavlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common, FrameEncoder, MAV_CMD, MESSAGE_BY_ID, minimal, modeNameOfCustom } from '../../shared/mavlink/index.js';
import { createRng, type Rng } from '../../shared/random/index.js';
import { type MavlinkTestClient, startTestVehicles, type TestVehicles } from '../support/index.js';

/** Messages whose garbage could legitimately steer the vehicle (modes, arming): fuzzed separately, aimed safely. */
const STEERING = new Set([11, 23, 75, 76, 84, 86]);
const KNOWN_IDS = [...MESSAGE_BY_ID.keys()].filter((id) => !STEERING.has(id));

function v2Frame(msgid: number, payload: Buffer, crcExtra: number, seq: number): Buffer {
  const header = Buffer.from([
    0xfd,
    payload.length,
    0,
    0,
    seq & 0xff,
    77,
    1,
    msgid & 0xff,
    (msgid >> 8) & 0xff,
    msgid >> 16,
  ]);
  const frame = Buffer.concat([header, payload, Buffer.alloc(2)]);
  frame.writeUInt16LE(x25crc(frame, 1, 2, crcExtra), frame.length - 2);
  return frame;
}

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

const nasty = (rng: Rng): number => {
  const pick = rng.int(6);
  if (pick === 0) return Number.NaN;
  if (pick === 1) return Number.POSITIVE_INFINITY;
  if (pick === 2) return -1e38;
  return (rng.next() - 0.5) * 10 ** rng.int(12);
};

/** One fuzz datagram of a randomly chosen kind. */
function fuzzDatagram(rng: Rng, encoder: FrameEncoder, seq: number): Buffer {
  switch (rng.int(7)) {
    case 0:
      return randomBytes(rng, 1 + rng.int(300));
    case 1: {
      const m = new common.ParamRequestRead();
      m.targetSystem = 1;
      m.targetComponent = 1;
      m.paramId = 'MPC_XY_VEL_MAX';
      m.paramIndex = -1;
      const f = encoder.encode(m);
      return f.subarray(0, 1 + rng.int(f.length - 1)); // truncated
    }
    case 2: {
      const f = Buffer.from(encoder.encode(new minimal.Heartbeat()));
      f[f.length - 1 - rng.int(2)] ^= 1 + rng.int(255); // wrong CRC
      return f;
    }
    case 3: {
      let id = 20000 + rng.int(40000);
      while (MESSAGE_BY_ID.has(id)) id++;
      return v2Frame(id, randomBytes(rng, rng.int(60)), rng.int(256), seq);
    }
    case 4: {
      const id = KNOWN_IDS[rng.int(KNOWN_IDS.length)];
      const cls = MESSAGE_BY_ID.get(id);
      return v2Frame(id, randomBytes(rng, rng.int(256)), cls?.MAGIC_NUMBER ?? 0, seq);
    }
    case 5: {
      // A well-formed COMMAND_LONG for this vehicle with absurd parameters, on commands that must not move it.
      const commands = [
        MAV_CMD.SET_MESSAGE_INTERVAL,
        MAV_CMD.REQUEST_MESSAGE,
        510,
        31_337,
        MAV_CMD.COMPONENT_ARM_DISARM,
      ];
      const m = new common.CommandLong();
      m.targetSystem = 1;
      m.targetComponent = 1;
      m.command = commands[rng.int(commands.length)] as common.CommandLong['command'];
      m._param1 = m.command === MAV_CMD.COMPONENT_ARM_DISARM ? Number.NaN : nasty(rng);
      m._param2 = nasty(rng);
      m._param3 = nasty(rng);
      m._param4 = nasty(rng);
      m._param5 = nasty(rng);
      m._param6 = nasty(rng);
      m._param7 = nasty(rng);
      return encoder.encode(m);
    }
    default: {
      // Several frames and junk in one datagram (a byte stream squeezed into UDP).
      const parts = [
        randomBytes(rng, rng.int(20)),
        encoder.encode(new minimal.Heartbeat()),
        randomBytes(rng, rng.int(20)),
      ];
      return Buffer.concat(parts);
    }
  }
}

describe('fuzzed input at a flying vehicle', () => {
  let env: TestVehicles;
  let client: MavlinkTestClient;

  beforeAll(async () => {
    env = await startTestVehicles(1, { portKey: import.meta.url, estimatorReadyS: 1, simulatedOnly: true });
    client = await env.client(0);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('keeps flying and answering, and counts the bad input', async () => {
    const fleet = env.fleet;
    if (!fleet) throw new Error('simulated fleet expected');
    await client.clock.sleep(1.5);
    const streamer = client.startSetpoints({ positionNedM: [0, 0, -10] }, 20);
    await client.clock.sleep(1.2);
    expect((await client.setMode('OFFBOARD')).resultName).toBe('ACCEPTED');
    expect((await client.arm()).resultName).toBe('ACCEPTED');
    await client.clock.sleep(10);
    const before = fleet.counters(0);

    const rng = createRng(2024);
    const encoder = new FrameEncoder(250, 1);
    const gcsSocket = createSocket('udp4');
    await new Promise<void>((resolve) => gcsSocket.bind(0, '127.0.0.1', () => resolve()));
    const gcsPort = fleet.endpoints[0].gcs?.listenPort ?? 0;
    let sent = 0;
    const stopFuzz = client.clock.every(0.01, () => {
      for (let k = 0; k < 4; k++) {
        const bytes = fuzzDatagram(rng, encoder, sent);
        // Half through the companion's own socket (same peer), half at the GCS port from a stranger.
        if (k % 2 === 0) client.link.transport.send(bytes);
        else gcsSocket.send(bytes, gcsPort, '127.0.0.1');
        sent++;
      }
    });
    await client.clock.sleep(10);
    stopFuzz();
    await new Promise<void>((resolve) => gcsSocket.close(() => resolve()));

    // Still flying where it was told, in OFFBOARD, armed.
    const hb = await client.waitFor(minimal.Heartbeat);
    expect(modeNameOfCustom(hb.customMode)).toBe('OFFBOARD');
    expect(hb.baseMode & 128).toBe(128);
    const pos = await client.waitFor(common.LocalPositionNed);
    expect(Math.hypot(pos.x, pos.y, pos.z + 10)).toBeLessThan(1);

    // Still answering.
    expect((await client.command(31_337)).resultName).toBe('UNSUPPORTED');
    expect((await client.readParam('MPC_XY_VEL_MAX')).paramValue).toBe(12);

    // And it counted what it refused.
    const after = fleet.counters(0);
    expect(sent).toBeGreaterThan(3000);
    expect(after.badFrames - before.badFrames).toBeGreaterThan(300);
    expect(after.unknownFrames - before.unknownFrames).toBeGreaterThan(300);
    expect(after.junkBytes - before.junkBytes).toBeGreaterThan(10_000);
    expect(after.framesIn - before.framesIn).toBeGreaterThan(1000);
    expect(after.commands - before.commands).toBeGreaterThan(300);
    streamer.stop();
  });
});
