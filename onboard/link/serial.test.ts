/**
 * The link over a serial line: a pty pair made by socat carries MAVLink both ways (our side opened from a
 * `serial:PATH:BAUD` URL, as on a companion wired to the flight controller's TELEM port).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common, FrameEncoder, MAV_CMD, minimal, SerialTransport } from '../../shared/mavlink/index.js';
import { AutopilotLink } from './autopilot-link.js';
import { ManualClock } from './clock.js';
import { parseLinkConfig } from './config.js';
import { FakeAutopilot, until } from './test-support.js';

const SOCAT = '/usr/bin/socat';
const hasSocat = existsSync(SOCAT);
const title = hasSocat
  ? 'AutopilotLink over a serial pty pair (socat)'
  : `AutopilotLink over a serial pty pair - SKIPPED: socat not found at ${SOCAT}`;

describe.skipIf(!hasSocat)(title, () => {
  let socat: ChildProcess | null = null;
  let ptys: string[] = [];

  beforeAll(async () => {
    const proc = spawn(SOCAT, ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    socat = proc;
    let log = '';
    proc.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    await until(() => /starting data transfer loop/.test(log), 10_000, 'socat pty pair');
    ptys = [...log.matchAll(/PTY is (\S+)/g)].map((m) => m[1]);
  });

  afterAll(() => {
    if (socat?.pid !== undefined) socat.kill('SIGTERM');
  });

  it('carries heartbeats, telemetry and a command round trip both ways', async () => {
    expect(ptys).toHaveLength(2);
    const clock = new ManualClock(0);
    const config = parseLinkConfig({ mavlink: `serial:${ptys[0]}:921600`, rateAttitudeHz: 0, rateGlobalPositionHz: 0 });
    const link = new AutopilotLink({ config, clock });
    const px4 = new FakeAutopilot(new SerialTransport({ kind: 'serial', path: ptys[1], baudRate: 921_600 }));
    await px4.link.open();
    await link.start();
    try {
      // Ours at start, then at 1 and 2 s: a byte stream, so frames may arrive split and are reassembled.
      clock.advance(2000);
      await until(() => px4.receivedOf(minimal.Heartbeat).length === 3, 5000, 'three companion heartbeats');

      px4.heartbeat();
      await until(() => link.isUp, 5000, 'link up');
      // Requests for LOCAL_POSITION_NED, EXTENDED_SYS_STATE and BATTERY_STATUS, answered ACCEPTED.
      await until(() => link.intervalStatus().every((s) => s.status === 'accepted'), 5000, 'message intervals');

      // A burst of 100 frames in one write: the reader gets it in arbitrary chunks and must reassemble frames.
      const encoder = new FrameEncoder(1, 1);
      const frames: Buffer[] = [];
      for (let i = 0; i < 100; i++) {
        const lp = new common.LocalPositionNed();
        lp.timeBootMs = i;
        lp.z = -i / 10;
        frames.push(encoder.encode(lp));
      }
      const framesBefore = link.mavlink.counters.parse.frames;
      px4.link.transport.send(Buffer.concat(frames));
      await until(() => link.state().positionNedM.d === Math.fround(-99 / 10), 5000, 'last local position');
      expect(link.mavlink.counters.parse.frames - framesBefore).toBe(100);
      expect(link.mavlink.counters.parse.badCrc).toBe(0);

      expect(await link.setMode('OFFBOARD')).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });
      expect(px4.commands.at(-1)?.command.command).toBe(MAV_CMD.DO_SET_MODE);
    } finally {
      await link.stop();
      await px4.link.close();
    }
  });
});
