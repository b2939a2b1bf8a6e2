/**
 * The simulated vehicle replays the recorded PX4 v1.15.4 conversation's script, and what it reports (HEARTBEAT
 * base_mode/custom_mode/system_status, SYS_STATUS sensor words, EXTENDED_SYS_STATE landed states, CURRENT_MODE
 * standard modes) is compared with what PX4 reported in the recording.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type common,
  decodeFrame,
  FrameParser,
  MAV_CMD,
  type MavLinkData,
  type minimal,
  modeNameOfCustom,
  readTlog,
} from '../../shared/mavlink/index.js';
import { PX4_REFERENCE_TLOG } from '../../test/fixtures/index.js';
import { every50ms, makeRig, velocitySetpoint } from './rig.test-support.js';
import { MSG } from './streams.js';
import { TELEMETRY } from './telemetry.js';

const REFERENCE = PX4_REFERENCE_TLOG;

interface Observed {
  heartbeats: Set<string>;
  sensors: Set<string>;
  landed: number[];
  standardModes: Set<number>;
}

function observer(): Observed & { see(m: MavLinkData, msgid: number): void } {
  const o: Observed = { heartbeats: new Set(), sensors: new Set(), landed: [], standardModes: new Set() };
  return {
    ...o,
    see(m, msgid) {
      if (msgid === MSG.HEARTBEAT) {
        const hb = m as minimal.Heartbeat;
        o.heartbeats.add(
          `${hb.baseMode}/${modeNameOfCustom(hb.customMode)}/${hb.systemStatus}/${hb.type}/${hb.autopilot}`,
        );
      } else if (msgid === MSG.SYS_STATUS) {
        const s = m as common.SysStatus;
        o.sensors.add(
          `${s.onboardControlSensorsPresent}/${s.onboardControlSensorsEnabled}/${s.onboardControlSensorsHealth}`,
        );
      } else if (msgid === MSG.EXTENDED_SYS_STATE) {
        const l = (m as common.ExtendedSysState).landedState;
        if (o.landed[o.landed.length - 1] !== l) o.landed.push(l);
      } else if (msgid === MSG.CURRENT_MODE) {
        o.standardModes.add((m as common.CurrentMode).standardMode);
      }
    },
  };
}

function recorded(): Observed {
  const o = observer();
  const parser = new FrameParser('datagram');
  const records = readTlog(readFileSync(REFERENCE));
  const t0 = records[0].timeUs;
  for (const r of records) {
    // The first 1.2 s of SYS_STATUS are PX4 still booting (no sensors yet): nothing a client acts on.
    const booting = Number(r.timeUs - t0) < 1.3e6;
    parser.push(r.frame, (f) => {
      if (f.sysid !== 1 || !TELEMETRY.has(f.msgid) || (booting && f.msgid === MSG.SYS_STATUS)) return;
      o.see(decodeFrame(f), f.msgid);
    });
  }
  return o;
}

/** The client's script from the recording's README, against the simulated vehicle. */
function simulated(): Observed {
  const o = observer();
  const r = makeRig({ estimatorReadyS: 12 });
  const watch = (): void => {
    for (const id of [MSG.HEARTBEAT, MSG.SYS_STATUS, MSG.EXTENDED_SYS_STATE, MSG.CURRENT_MODE]) {
      const m = TELEMETRY.get(id)?.(r.v);
      if (m) o.see(m, id);
    }
  };
  r.run(5, watch);
  expect(r.setMode('OFFBOARD')).toBe(0);
  expect(r.arm()).toBe(1);
  let sp = velocitySetpoint(0, 0, -1.5);
  const stream = every50ms(() => r.v.commander.handleSetpoint(sp, r.t));
  const streaming = (t: number): void => {
    stream(t);
    watch();
  };
  r.run(1.5, streaming);
  expect(r.setMode('OFFBOARD')).toBe(0);
  // The client retried arming until accepted; PX4 accepted as soon as its estimator was ready.
  expect(r.runUntil(() => r.arm() === 0, 30, streaming)).toBeGreaterThan(0);
  r.run(8, streaming);
  sp = velocitySetpoint(0, 0, 0);
  r.run(2, streaming);
  r.run(1.5, watch);
  expect(r.v.commander.navState).toBe('POSCTL');
  expect(r.cmd(MAV_CMD.NAV_LAND)).toBe(0);
  r.runUntil(() => !r.v.commander.armed, 60, watch);
  r.run(1, watch);
  return o;
}

describe('telemetry against the recorded PX4 conversation', () => {
  const theirs = recorded();
  const ours = simulated();

  it('reports the same HEARTBEAT base_mode / mode / system_status combinations', () => {
    expect([...ours.heartbeats].sort()).toEqual([...theirs.heartbeats].sort());
  });

  it('reports the same SYS_STATUS sensor words', () => {
    expect([...ours.sensors].sort()).toEqual([...theirs.sensors].sort());
  });

  it('walks the same landed states and CURRENT_MODE standard modes', () => {
    expect(ours.landed).toEqual(theirs.landed);
    expect([...ours.standardModes].sort()).toEqual([...theirs.standardModes].sort());
  });
});
