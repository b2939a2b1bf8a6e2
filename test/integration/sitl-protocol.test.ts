/**
 * The simulated vehicle's MAVLink protocol over real UDP, checked against what PX4 v1.15.4 did in the recorded
 * conversation (shared px4-reference): default stream rates, message intervals, requests, parameters, commands.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLong, common, FrameParser, MAV_CMD, readTlog } from '../../shared/mavlink/index.js';
import { MSG } from '../../sitl/index.js';
import { PX4_REFERENCE_TLOG } from '../fixtures/index.js';
import { type MavlinkTestClient, startTestVehicles, type TestVehicles } from '../support/index.js';

/** The recorded real PX4 conversation (test/fixtures/px4-reference). */
const REFERENCE_PATH = PX4_REFERENCE_TLOG;

/** Rates PX4 streamed on its onboard link, per message id, in PX4's own time (the SITL ran slower than the wall). */
function referenceRatesHz(): Map<number, number> {
  const data = readFileSync(REFERENCE_PATH);
  const parser = new FrameParser('datagram');
  const times = new Map<number, number[]>();
  const bootSamples: [number, number][] = [];
  for (const rec of readTlog(data)) {
    const wallS = Number(rec.timeUs) / 1e6;
    parser.push(rec.frame, (f) => {
      if (f.sysid !== 1) return;
      const list = times.get(f.msgid) ?? [];
      list.push(wallS);
      times.set(f.msgid, list);
      // LOCAL_POSITION_NED starts with time_boot_ms (uint32 LE): PX4's clock against the wall.
      if (f.msgid === MSG.LOCAL_POSITION_NED) bootSamples.push([wallS, f.payload.readUInt32LE(0) / 1000]);
    });
  }
  const [w0, b0] = bootSamples[0];
  const [w1, b1] = bootSamples[bootSamples.length - 1];
  const px4PerWall = (b1 - b0) / (w1 - w0);
  const rates = new Map<number, number>();
  for (const [id, list] of times) {
    if (list.length > 2) rates.set(id, (list.length - 1) / ((list[list.length - 1] - list[0]) * px4PerWall));
  }
  return rates;
}

describe('MAVLink protocol over UDP', () => {
  let env: TestVehicles;
  let client: MavlinkTestClient;

  beforeAll(async () => {
    env = await startTestVehicles(2, { portKey: import.meta.url, estimatorReadyS: 2, simulatedOnly: true });
    client = await env.client(0);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('streams the onboard defaults at the rates PX4 used (simulated time, within 5%)', async () => {
    const reference = referenceRatesHz();
    const arrivals = new Map<number, number[]>();
    client.link.onFrameReceived((f) => {
      if (f.sysid !== 1) return;
      const list = arrivals.get(f.msgid) ?? [];
      list.push(client.clock.nowS());
      arrivals.set(f.msgid, list);
    });
    await client.clock.sleep(40);
    const streamed = [
      MSG.HEARTBEAT,
      MSG.SYS_STATUS,
      MSG.GPS_RAW_INT,
      MSG.LOCAL_POSITION_NED,
      MSG.VFR_HUD,
      MSG.POSITION_TARGET_LOCAL_NED,
      MSG.ALTITUDE,
      MSG.BATTERY_STATUS,
      MSG.HOME_POSITION,
      MSG.EXTENDED_SYS_STATE,
      MSG.CURRENT_MODE,
    ];
    for (const id of streamed) {
      const list = arrivals.get(id) ?? [];
      const ours = (list.length - 1) / (list[list.length - 1] - list[0]);
      const theirs = reference.get(id) as number;
      expect(Math.abs(ours / theirs - 1), `message ${id}: ${ours} Hz vs PX4 ${theirs} Hz`).toBeLessThan(0.05);
    }
    // Not streamed by default, as on PX4's onboard link before anything asks.
    expect(arrivals.get(MSG.ATTITUDE)).toBeUndefined();
    expect(arrivals.get(MSG.GLOBAL_POSITION_INT)).toBeUndefined();
  });

  it('refuses a HEARTBEAT interval as PX4 does (FAILED) and streams ATTITUDE once asked', async () => {
    expect((await client.setMessageRate(MSG.HEARTBEAT, 10)).resultName).toBe('FAILED');
    expect((await client.setMessageRate(MSG.ATTITUDE, 50)).resultName).toBe('ACCEPTED');
    const got = await client.collect(common.Attitude, 2000);
    expect(got.length).toBeGreaterThanOrEqual(98);
    expect(got.length).toBeLessThanOrEqual(102);
    expect((await client.setMessageRate(MSG.ATTITUDE, -1)).resultName).toBe('ACCEPTED');
    await client.clock.sleep(0.1);
    expect(await client.collect(common.Attitude, 1000)).toHaveLength(0);
    expect((await client.setMessageRate(MSG.GLOBAL_POSITION_INT, 5)).resultName).toBe('ACCEPTED');
    const gpi = await client.waitFor(common.GlobalPositionInt);
    expect(gpi.lat / 1e7).toBeCloseTo(47.397742, 4);
    expect((await client.setMessageRate(MSG.ATTITUDE_QUATERNION, 10)).resultName).toBe('ACCEPTED');
    const q = await client.waitFor(common.AttitudeQuaternion);
    expect(Math.hypot(q.q1, q.q2, q.q3, q.q4)).toBeCloseTo(1, 5);
    expect((await client.setMessageRate(4242, 10)).resultName).toBe('FAILED');
  });

  it('answers REQUEST_MESSAGE and GET_MESSAGE_INTERVAL', async () => {
    const home = client.waitFor(common.HomePosition, () => true, 500);
    expect((await client.command(MAV_CMD.REQUEST_MESSAGE, [MSG.HOME_POSITION])).resultName).toBe('ACCEPTED');
    expect((await home).altitude).toBe(488_000);
    expect((await client.command(MAV_CMD.REQUEST_MESSAGE, [4242])).resultName).toBe('DENIED');
    const interval = client.waitFor(common.MessageInterval, (m) => m.messageId === MSG.LOCAL_POSITION_NED, 500);
    expect((await client.command(510, [MSG.LOCAL_POSITION_NED])).resultName).toBe('ACCEPTED');
    expect((await interval).intervalUs).toBe(33_333);
  });

  it('answers unknown commands UNSUPPORTED and ignores commands for another system', async () => {
    expect((await client.command(31_337)).resultName).toBe('UNSUPPORTED');
    let acks = 0;
    const off = client.link.on(common.CommandAck, () => acks++);
    client.send(commandLong({ command: MAV_CMD.COMPONENT_ARM_DISARM, params: [1], targetSystem: 7 }));
    await client.clock.sleep(0.5);
    off();
    expect(acks).toBe(0);
  });

  it('lists, reads and sets parameters; a limit reaches the dynamics', async () => {
    const values: common.ParamValue[] = [];
    const off = client.link.on<common.ParamValue>(common.ParamValue, (m) => values.push(m));
    const list = new common.ParamRequestList();
    list.targetSystem = 1;
    list.targetComponent = 1;
    client.send(list);
    await client.clock.until(() => values.length > 0 && values.length >= values[0].paramCount, 2);
    off();
    expect(values.length).toBe(values[0].paramCount);
    const names = values.map((v) => v.paramId);
    for (const name of [
      'COM_OF_LOSS_T',
      'COM_OBL_RC_ACT',
      'MPC_XY_VEL_MAX',
      'MPC_Z_VEL_MAX_UP',
      'MPC_Z_VEL_MAX_DN',
      'MPC_ACC_HOR',
      'MIS_TAKEOFF_ALT',
      'RTL_RETURN_ALT',
      'BAT_LOW_THR',
      'BAT_CRIT_THR',
      'BAT_EMERGEN_THR',
    ]) {
      expect(names).toContain(name);
    }
    expect(new Set(values.map((v) => v.paramIndex)).size).toBe(values.length);

    const loss = await client.readParam('COM_OF_LOSS_T');
    expect(loss.paramValue).toBeCloseTo(1, 6);
    expect(loss.paramType).toBe(9);

    const set = await client.setParam('MPC_XY_VEL_MAX', 5, 'float');
    expect(set.paramValue).toBe(5);
    expect(env.fleet?.vehicles[0].body.params.maxHorizontalSpeedMS).toBe(5);
    expect(env.fleet?.vehicles[1].body.params.maxHorizontalSpeedMS).toBe(12);

    const act = await client.setParam('COM_OBL_RC_ACT', 4, 'int32');
    const dv = new DataView(new ArrayBuffer(4));
    dv.setFloat32(0, act.paramValue, true);
    expect(dv.getInt32(0, true)).toBe(4);
    expect(act.paramType).toBe(6);

    // Out of range: refused, and the answer carries the value still in force.
    const refused = await client.setParam('MPC_Z_VEL_MAX_UP', 500, 'float');
    expect(refused.paramValue).toBe(3);
  });

  it('keeps per-vehicle identities: vehicle 1 is system 2 on its own ports', async () => {
    const other = await env.client(1);
    await other.waitFor(common.ExtendedSysState);
    expect(other.targetSystem).toBe(2);
    expect((await other.command(31_337)).resultName).toBe('UNSUPPORTED');
    expect(env.fleet?.endpoints[1].onboard.listenPort).toBe((env.fleet?.endpoints[0].onboard.listenPort ?? 0) + 1);
  });
});
