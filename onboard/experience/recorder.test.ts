import { describe, expect, it } from 'vitest';
import { parseExperienceRecord } from '../../shared/experience/index.js';
import { EMPTY_AIRSPACE } from '../../shared/geo/index.js';
import type { TickReport } from '../control/index.js';
import { parseSafetyConfig, SafetyFilter } from '../safety/index.js';
import { ExperienceRecorder } from './recorder.js';

const LIMITS = { maxHorizontalMS: 10, maxUpMS: 3, maxDownMS: 1.5 };

function decisionAt(timeUs: number) {
  const filter = new SafetyFilter(parseSafetyConfig({}));
  return filter.update({
    timeUs,
    vehicle: {
      positionNedM: { n: 0, e: 0, d: -20 },
      velocityNedMS: { n: 2, e: 0, d: 0 },
      altitudeAboveHomeM: 20,
      armed: true,
      landed: false,
      batteryRemaining01: 0.8,
      batteryVoltageV: 15.8,
      gpsFixOk: true,
      positionAgeMs: 10,
      statusAgeMs: 10,
    },
    policy: { action: [0.2, 0, 0], velocityNedMS: { n: 2, e: 0, d: 0 } },
    airspace: EMPTY_AIRSPACE,
    neighbours: [],
    link: { autopilotHeartbeatAgeMs: 100, groundLinkUp: true },
    emergencyStop: false,
    phase: 'cruise',
  });
}

function report(tick: number, goalDistanceM: number | null, phase: TickReport['phase'] = 'cruise-out'): TickReport {
  return {
    timeUs: tick * 20_000,
    phase,
    sent: true,
    decision: decisionAt(tick * 20_000),
    policy: goalDistanceM === null ? null : { ok: true, action: new Float32Array([0.2, 0, 0]), latencyUs: 10 },
    events: [],
    observation: goalDistanceM === null ? null : new Float32Array(32).fill(0.5),
    goalDistanceM: goalDistanceM ?? Number.NaN,
  };
}

describe('ExperienceRecorder', () => {
  it('records one policy tick in N with progress as reward, and closes the leg with the arrival bonus', () => {
    const recorder = new ExperienceRecorder({ everyTicks: 2, limits: LIMITS, policyVersion: () => 'sha256:abc' });
    const records = [];
    for (let t = 0; t < 6; t++) {
      const r = recorder.onTick(report(t, 100 - t));
      if (r) records.push(r);
    }
    const end = recorder.onTick(report(6, null, 'descend'));
    expect(records.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(records.map((r) => r.reward)).toEqual([0, 2, 2]);
    expect(end).toMatchObject({ done: true, truncated: false, reward: 10, episode: 1 });
    // Every record is valid as the station will check it.
    for (const r of [...records, end])
      expect(() => parseExperienceRecord(JSON.parse(JSON.stringify(r)), 'test')).not.toThrow();
    expect(records[0].filteredAction[0]).toBeCloseTo(0.2, 5);
    expect(records[0].policyVersion).toBe('sha256:abc');
  });

  it('marks a leg cut short (failsafe) as truncated and starts a new episode on the next leg', () => {
    const recorder = new ExperienceRecorder({ everyTicks: 1, limits: LIMITS, policyVersion: () => 'v1' });
    recorder.onTick(report(0, 50));
    expect(recorder.onTick(report(1, null, 'failsafe'))).toMatchObject({ done: false, truncated: true, reward: 0 });
    expect(recorder.onTick(report(2, null, 'failsafe'))).toBeNull();
    expect(recorder.onTick(report(3, 40, 'cruise-back'))?.episode).toBe(2);
  });
});
