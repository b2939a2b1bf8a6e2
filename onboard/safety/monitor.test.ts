/**
 * Scripted scenarios in the manner of PX4's failsafe_test.cpp: advance time tick by tick through the whole filter
 * and assert the action the monitor chooses, its transitions and the setpoint it makes the filter fly.
 */
import { describe, expect, it } from 'vitest';
import type { Airspace } from '../../shared/geo/index.js';
import { parseSafetyConfig, type SafetyConfig } from './config.js';
import { RuntimeMonitor } from './monitor.js';
import type { MonitorInput } from './monitor-rules.js';
import { type SafetyDecision, SafetyFilter } from './safety-filter.js';
import { healthyInput, TICK_US } from './test-support.js';
import type { SafetyInput } from './types.js';

type Patch = (input: SafetyInput) => SafetyInput;
const same: Patch = (i) => i;

/** A filter, a clock at 50 Hz, and a log of every transition. */
function scenario(cfg: SafetyConfig = parseSafetyConfig({})) {
  const filter = new SafetyFilter(cfg);
  let tUs = 1_000_000;
  const transitions: { from: string; to: string; rules: readonly string[]; cause: string; atMs: number }[] = [];
  let last: SafetyDecision | null = null;
  const tick = (patch: Patch = same, n = 1): SafetyDecision => {
    for (let i = 0; i < n; i++) {
      tUs += TICK_US;
      last = filter.update(patch(healthyInput(tUs, { n: 3, e: 0, d: 0 })));
      const tr = last.monitor.transition;
      if (tr) transitions.push({ from: tr.from, to: tr.to, rules: tr.rules, cause: tr.cause, atMs: tr.timeUs / 1000 });
    }
    return last!;
  };
  /** Tick for a duration (ms) with the same patch. */
  const run = (ms: number, patch: Patch = same): SafetyDecision => tick(patch, Math.round((ms * 1000) / TICK_US));
  return { filter, tick, run, transitions, nowMs: () => tUs / 1000 };
}

const nanAction: Patch = (i) => ({
  ...i,
  policy: { action: [Number.NaN, 0, 0], velocityNedMS: { n: Number.NaN, e: 0, d: 0 } },
});
const vehicle =
  (v: Partial<SafetyInput['vehicle']>): Patch =>
  (i) => ({ ...i, vehicle: { ...i.vehicle, ...v } });
const link =
  (l: Partial<SafetyInput['link']>): Patch =>
  (i) => ({ ...i, link: { ...i.link, ...l } });

describe('runtime monitor scenarios', () => {
  it('a policy fault streak escalates to hold, then to land, and the land latches', () => {
    const s = scenario();
    expect(s.tick().action).toBe('none');
    // Four faults: below policyFaultHoldTicks (5), the brake flies but nothing escalates.
    let d = s.tick(nanAction, 4);
    expect(d.action).toBe('none');
    expect(d.policyFault).toBe(true);
    expect(d.velocityNedMS).toEqual({ n: 0, e: 0, d: 0 });
    d = s.tick(nanAction);
    expect(d.action).toBe('hold');
    expect(d.monitor.fired).toEqual(['policy_fault_streak']);
    // One good tick breaks the streak, but hold is latched.
    d = s.tick();
    expect(d.action).toBe('hold');
    expect(d.monitor.counters.policyFaultStreak).toBe(0);
    expect(d.velocityNedMS).toEqual({ n: 0, e: 0, d: 0 }); // hold flies hover, not the policy
    d = s.tick(nanAction, 49);
    expect(d.action).toBe('hold');
    d = s.tick(nanAction);
    expect(d.action).toBe('land');
    expect(d.velocityNedMS.d).toBeCloseTo(0.7, 9); // the land descent
    // The policy recovers: still land (no flapping back to cruise).
    expect(s.run(5000).action).toBe('land');
    expect(s.transitions.map((t) => [t.from, t.to, t.rules.join()])).toEqual([
      ['none', 'hold', 'policy_fault_streak'],
      ['hold', 'land', 'policy_fault_persistent'],
    ]);
  });

  it('losing the autopilot heartbeat lands, and only after the timeout', () => {
    const s = scenario();
    expect(s.tick(link({ autopilotHeartbeatAgeMs: 2999 })).action).toBe('none');
    const d = s.tick(link({ autopilotHeartbeatAgeMs: 3001 }));
    expect(d.action).toBe('land');
    expect(d.monitor.activeRules).toContain('autopilot_link_lost');
    expect(s.tick(link({ autopilotHeartbeatAgeMs: Number.POSITIVE_INFINITY })).action).toBe('land');
    expect(s.run(1000).action).toBe('land'); // latched after the link returns
  });

  it('low battery returns after its hold-off, critical battery lands after its own', () => {
    const s = scenario();
    const low = vehicle({ batteryRemaining01: 0.2 });
    expect(s.run(1980, low).action).toBe('none');
    expect(s.run(40, low).action).toBe('return');
    expect(s.transitions.at(-1)).toMatchObject({ from: 'none', to: 'return', rules: ['battery_low'] });
    const critical = vehicle({ batteryRemaining01: 0.1 });
    expect(s.run(1980, critical).action).toBe('return');
    expect(s.run(40, critical).action).toBe('land');
    // A return flies a safe hover until the driver switches PX4 to RTL.
    expect(s.transitions.map((t) => t.to)).toEqual(['return', 'land']);
  });

  it('a battery dip shorter than the hold-off does nothing (load sag), and the hold-off restarts', () => {
    const s = scenario();
    const low = vehicle({ batteryRemaining01: 0.2 });
    expect(s.run(1500, low).action).toBe('none');
    expect(s.tick().action).toBe('none');
    expect(s.run(1500, low).action).toBe('none');
    expect(s.transitions).toEqual([]);
    // A low pack voltage counts too when configured.
    const v = scenario(parseSafetyConfig({ batteryLowVoltageV: 14, batteryCriticalVoltageV: 13 }));
    expect(v.run(2100, vehicle({ batteryVoltageV: 13.5 })).action).toBe('return');
  });

  it('the emergency stop lands on the same tick and latches until landed and disarmed', () => {
    const s = scenario();
    s.run(200);
    const d = s.tick((i) => ({ ...i, emergencyStop: true }));
    expect(d.action).toBe('land');
    expect(d.velocityNedMS).toEqual({ n: 0, e: 0, d: 0.7 });
    expect(d.interventions.some((iv) => iv.layer === 'monitor' && iv.reason === 'monitor_land')).toBe(true);
    expect(d.layers.monitor).toBe(true);
    const later = s.run(2000);
    expect(later.action).toBe('land');
    // The e-stop tick and the 99 before this one were overridden by the monitor (this tick's is counted after).
    expect(later.monitor.counters.window.layers.monitor.count).toBe(100);
    // Touching down and disarming clears the latch (auto reset), with a transition that says so.
    const ground = s.tick(vehicle({ landed: true, armed: false }));
    expect(ground.action).toBe('none');
    expect(ground.monitor.reset).toBe('disarmed');
    expect(s.transitions.at(-1)).toMatchObject({ from: 'land', to: 'none', cause: 'reset' });
  });

  it('an operator clear releases a latched hold once its cause is gone, but not while it persists', () => {
    const s = scenario();
    const stale = vehicle({ positionAgeMs: 400 });
    expect(s.tick(stale).action).toBe('hold');
    expect(s.run(500).action).toBe('hold');
    const clear: Patch = (i) => ({ ...i, operatorClear: true });
    // Clearing while the state is still stale: the rule re-asserts at once.
    expect(s.tick((i) => clear(stale(i))).action).toBe('hold');
    const d = s.tick(clear);
    expect(d.action).toBe('none');
    expect(d.monitor.reset).toBe('operator');
    expect(s.tick().velocityNedMS.n).toBeGreaterThan(0); // the policy flies again (rate limited from hover)
  });

  it('a stale estimate holds at once and lands when it stays stale', () => {
    const s = scenario();
    const stale = vehicle({ positionAgeMs: 1000 });
    expect(s.tick(stale).action).toBe('hold');
    expect(s.run(1960, stale).action).toBe('hold');
    expect(s.run(60, stale).action).toBe('land');
    expect(s.transitions.map((t) => t.rules.join())).toEqual(['state_stale', 'state_lost']);
  });

  it('GPS loss holds after its hold-off and lands after the longer one', () => {
    const s = scenario();
    const noFix = vehicle({ gpsFixOk: false });
    expect(s.run(480, noFix).action).toBe('none');
    expect(s.run(40, noFix).action).toBe('hold');
    expect(s.run(4400, noFix).action).toBe('hold');
    expect(s.run(200, noFix).action).toBe('land');
  });

  it('a hold latch still escalates to land', () => {
    const s = scenario();
    expect(s.tick(vehicle({ positionAgeMs: 500 })).action).toBe('hold');
    expect(s.run(100).action).toBe('hold');
    expect(s.run(2100, vehicle({ batteryRemaining01: 0.05 })).action).toBe('land');
  });

  it('warnings do not latch and release with hysteresis; a long ground-link loss returns', () => {
    const s = scenario();
    const down = link({ groundLinkUp: false });
    expect(s.tick(down).action).toBe('warn');
    // Link back: the warning stays up for warnReleaseMs (2 s), so a flickering link does not flap it.
    expect(s.run(1980).action).toBe('warn');
    expect(s.tick(down).action).toBe('warn');
    expect(s.run(1980).action).toBe('warn');
    expect(s.run(40).action).toBe('none');
    expect(s.transitions.map((t) => [t.from, t.to, t.cause])).toEqual([
      ['none', 'warn', 'escalation'],
      ['warn', 'none', 'release'],
    ]);
    // Down for groundLinkLostMs (10 s) in the air: return.
    expect(s.run(9980, down).action).toBe('warn');
    expect(s.run(40, down).action).toBe('return');
  });

  it('a fence breach holds, the hold flies back inside, and the latch stays until cleared', () => {
    const airspace: Airspace = {
      geofence: {
        polygonNeM: [
          { n: -50, e: -50 },
          { n: 50, e: -50 },
          { n: 50, e: 50 },
          { n: -50, e: 50 },
        ],
        ceilingM: 100,
      },
      noFlyZones: [],
      altitudeFloorM: 0,
    };
    const s = scenario();
    const at =
      (n: number): Patch =>
      (i) => ({ ...i, airspace, vehicle: { ...i.vehicle, positionNedM: { n, e: 0, d: -30 } } });
    expect(s.tick(at(0)).action).toBe('none');
    const out = s.tick(at(51));
    expect(out.action).toBe('hold');
    expect(out.monitor.activeRules).toContain('fence_breach');
    expect(out.velocityNedMS.n).toBeLessThan(0); // the hover is shaped by the barrier: back inside
    expect(out.monitor.counters.breachEvents.fence).toBe(1);
    expect(s.run(2000, at(0)).action).toBe('hold');
    expect(s.tick((i) => ({ ...at(0)(i), operatorClear: true })).action).toBe('none');
  });

  it('near misses warn, are counted once per entry, and release after the hysteresis', () => {
    const airspace: Airspace = {
      geofence: null,
      noFlyZones: [{ kind: 'cylinder', id: 'z', centerNeM: { n: 0, e: 0 }, radiusM: 10 }],
      altitudeFloorM: 0,
    };
    const s = scenario();
    const at =
      (n: number): Patch =>
      (i) => ({ ...i, airspace, vehicle: { ...i.vehicle, positionNedM: { n, e: 0, d: -30 } } });
    expect(s.tick(at(30)).action).toBe('none');
    let d = s.run(200, at(11.5)); // inside the 3 m margin, outside the zone
    expect(d.action).toBe('warn');
    expect(d.monitor.counters.window.nearMisses).toBe(1);
    s.run(100, at(30));
    d = s.run(100, at(12));
    expect(d.monitor.counters.window.nearMisses).toBe(2);
    expect(s.run(2100, at(30)).action).toBe('none');
  });

  it('counts interventions per layer over the window and warns when the barrier works too hard', () => {
    const cfg = parseSafetyConfig({ interventionWarnCount: 50, monitorWindowMs: 2000 });
    const airspace: Airspace = {
      geofence: null,
      noFlyZones: [{ kind: 'cylinder', id: 'z', centerNeM: { n: 20, e: 0 }, radiusM: 5 }],
      altitudeFloorM: 0,
    };
    const s = scenario(cfg);
    // Held 5 m short of the zone edge at 3 m/s toward it, the policy asking for 3 m/s: the barrier brakes it.
    const pushing: Patch = (i) => ({
      ...i,
      airspace,
      vehicle: { ...i.vehicle, positionNedM: { n: 10, e: 0, d: -30 }, velocityNedMS: { n: 3, e: 0, d: 0 } },
    });
    let d = s.tick(pushing, 49);
    expect(d.monitor.counters.window.layers.barrier.count).toBe(49);
    expect(d.monitor.counters.window.layers.barrier.maxMagnitudeMS).toBeGreaterThan(0);
    expect(d.action).toBe('none');
    d = s.tick(pushing);
    expect(d.action).toBe('warn');
    expect(d.monitor.activeRules).toContain('interventions_excessive');
    // After the window passes without interventions, the count drains and the warning releases.
    d = s.run(2000 + 2100);
    expect(d.monitor.counters.window.layers.barrier.count).toBe(0);
    expect(d.action).toBe('none');
  });
});

describe('RuntimeMonitor on its own', () => {
  const base: MonitorInput = {
    timeUs: 0,
    armed: true,
    landed: false,
    phase: 'cruise',
    emergencyStop: false,
    operatorClear: false,
    autopilotHeartbeatAgeMs: 100,
    groundLinkUp: true,
    batteryRemaining01: 0.9,
    batteryVoltageV: 16,
    statusAgeMs: 100,
    gpsFixOk: true,
    positionAgeMs: 10,
    stateValid: true,
    policyFault: false,
    shieldVeto: false,
    barrierFallback: false,
    breached: [],
    nearMiss: [],
    neighbourStale: false,
    airspaceIssueCount: 0,
    interventions: [],
  };

  it('takes the most severe of several rules that fire together', () => {
    const m = new RuntimeMonitor(parseSafetyConfig({}));
    const r = m.update({ ...base, emergencyStop: true, groundLinkUp: false, breached: ['zone'] });
    expect(r.action).toBe('land');
    expect(r.activeRules[0]).toBe('emergency_stop');
    expect(new Set(r.fired)).toEqual(new Set(['emergency_stop', 'zone_breach', 'ground_link_down']));
    expect(r.transition).toMatchObject({ from: 'none', to: 'land', rules: ['emergency_stop'], cause: 'escalation' });
  });

  it('does not count airborne-only rules on the ground', () => {
    const m = new RuntimeMonitor(parseSafetyConfig({}));
    let r = m.update({ ...base, armed: false, landed: true, gpsFixOk: false, policyFault: true });
    for (let i = 1; i < 400; i++)
      r = m.update({ ...base, timeUs: i * TICK_US, armed: false, landed: true, gpsFixOk: false, policyFault: true });
    expect(r.action).toBe('none');
  });

  it('fails closed when a custom rule throws', () => {
    const m = new RuntimeMonitor(parseSafetyConfig({}), [
      {
        name: 'near_miss',
        action: 'hold',
        holdOffMs: 0,
        releaseMs: 0,
        condition: 'broken',
        when: () => {
          throw new Error('bug');
        },
      },
    ]);
    expect(m.update(base).action).toBe('hold');
  });

  it('orders active rules most severe first, table order within a level, and hands out a list again only on change', () => {
    const m = new RuntimeMonitor(parseSafetyConfig({}));
    const a = m.update({ ...base, groundLinkUp: false, nearMiss: ['floor'], breached: ['zone'] });
    expect(a.activeRules).toEqual(['zone_breach', 'ground_link_down', 'near_miss']);
    const b = m.update({ ...base, timeUs: TICK_US, groundLinkUp: false, nearMiss: ['floor'], breached: ['zone'] });
    // Unchanged: the same frozen list, and the same breach counts (one rising edge).
    expect(b.activeRules).toBe(a.activeRules);
    expect(Object.isFrozen(b.activeRules)).toBe(true);
    expect(b.counters.breachEvents).toBe(a.counters.breachEvents);
    expect(b.counters.breachEvents.zone).toBe(1);
    expect(b.fired).toEqual([]);
    const c = m.update({ ...base, timeUs: 2 * TICK_US, emergencyStop: true, groundLinkUp: false, breached: ['zone'] });
    expect(c.activeRules).toEqual(['emergency_stop', 'zone_breach', 'ground_link_down', 'near_miss']);
    // The lists handed out before are left as they were.
    expect(a.activeRules).toEqual(['zone_breach', 'ground_link_down', 'near_miss']);
    const d = m.update({ ...base, timeUs: 3 * TICK_US, breached: ['zone', 'fence'] });
    expect(d.counters.breachEvents).toMatchObject({ zone: 1, fence: 1 });
    expect(a.counters.breachEvents).toMatchObject({ zone: 1, fence: 0 });
  });
});
