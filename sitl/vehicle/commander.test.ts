import { describe, expect, it } from 'vitest';
import { MAV_CMD, MAV_RESULT } from '../../shared/mavlink/index.js';
import { MAV_STATE } from './commander.js';
import { every50ms, makeRig, positionSetpoint, velocitySetpoint } from './rig.test-support.js';

const { ACCEPTED, TEMPORARILY_REJECTED, UNSUPPORTED } = MAV_RESULT;

describe('estimator readiness and arming checks', () => {
  it('refuses to arm until the estimator is ready, then arms (AUTO.LOITER)', () => {
    const r = makeRig({ estimatorReadyS: 3 });
    r.run(0.1);
    expect(r.v.commander.navState).toBe('AUTO.LOITER');
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
    expect(r.v.commander.systemStatus).toBe(MAV_STATE.UNINIT);
    r.run(2.8);
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
    r.run(0.2);
    expect(r.v.commander.systemStatus).toBe(MAV_STATE.STANDBY);
    expect(r.arm()).toBe(ACCEPTED);
    expect(r.v.commander.armed).toBe(true);
    expect(r.arm()).toBe(ACCEPTED);
  });

  it('auto-disarms when no takeoff follows arming within COM_DISARM_PRFLT', () => {
    const r = makeRig({ params: { COM_DISARM_PRFLT: 4 } });
    r.run(1.5);
    expect(r.arm()).toBe(ACCEPTED);
    r.run(3.9);
    expect(r.v.commander.armed).toBe(true);
    r.run(0.2);
    expect(r.v.commander.armed).toBe(false);
  });

  it('refuses arming in modes that prevent it or that need RC', () => {
    const r = makeRig();
    r.run(1.5);
    expect(r.setMode('AUTO.RTL')).toBe(ACCEPTED);
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
    expect(r.setMode('MANUAL')).toBe(ACCEPTED);
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
    expect(r.setMode('POSCTL')).toBe(ACCEPTED);
    expect(r.arm()).toBe(ACCEPTED);
  });

  it('answers DO_SET_MODE, unknown commands and invalid arm params as PX4', () => {
    const r = makeRig();
    r.run(1.5);
    expect(r.cmd(MAV_CMD.DO_SET_MODE, 1, 42, 0)).toBe(ACCEPTED); // unknown main mode: nothing changes
    expect(r.v.commander.userMode).toBe('AUTO.LOITER');
    expect(r.cmd(MAV_CMD.DO_SET_MODE, 1, 4, 7)).toBe(TEMPORARILY_REJECTED); // unknown AUTO sub mode
    expect(r.cmd(MAV_CMD.COMPONENT_ARM_DISARM, 3)).toBe(UNSUPPORTED);
    expect(r.cmd(31000)).toBe(UNSUPPORTED);
    expect(r.cmd(MAV_CMD.COMPONENT_ARM_DISARM, 0)).toBe(ACCEPTED); // disarm while disarmed
  });
});

describe('offboard', () => {
  it('accepts OFFBOARD disarmed without a stream but refuses to arm until it streams >2 Hz for >1 s', () => {
    const r = makeRig();
    r.run(1.5);
    expect(r.setMode('OFFBOARD')).toBe(ACCEPTED);
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
    const stream = every50ms(() => r.v.commander.handleSetpoint(velocitySetpoint(0, 0, 0), r.t));
    r.run(0.9, stream);
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
    r.run(0.25, stream);
    expect(r.arm()).toBe(ACCEPTED);
  });

  it('does not count a 1.5 Hz stream as a setpoint stream', () => {
    const r = makeRig();
    r.run(1.5);
    r.setMode('OFFBOARD');
    let next = 0;
    const slow = (t: number): void => {
      if (t >= next) {
        r.v.commander.handleSetpoint(velocitySetpoint(0, 0, 0), t);
        next = t + 0.67;
      }
    };
    r.run(3, slow);
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
  });

  it('refuses a switch into OFFBOARD while armed without a stream', () => {
    const r = makeRig();
    r.run(1.5);
    r.arm();
    expect(r.setMode('OFFBOARD')).toBe(TEMPORARILY_REJECTED);
    expect(r.setMode('MANUAL')).toBe(TEMPORARILY_REJECTED);
    expect(r.v.commander.userMode).toBe('AUTO.LOITER');
  });

  it('fails safe COM_OF_LOSS_T after the stream stops: POSCTL descent, landing, disarm, back to OFFBOARD', () => {
    const r = makeRig();
    r.run(1.5);
    r.setMode('OFFBOARD');
    let sp = velocitySetpoint(0, 0, -1.5);
    const stream = every50ms(() => r.v.commander.handleSetpoint(sp, r.t));
    r.run(1.2, stream);
    expect(r.arm()).toBe(ACCEPTED);
    r.run(5, stream);
    expect(r.altitudeM()).toBeGreaterThan(4);
    sp = velocitySetpoint(0, 0, 0);
    r.run(2, stream);
    const lastSetpointS = r.t - 0.05;
    const failsafeAt = r.runUntil(() => r.v.commander.navState !== 'OFFBOARD', 3);
    expect(failsafeAt - lastSetpointS).toBeGreaterThan(0.99);
    expect(failsafeAt - lastSetpointS).toBeLessThan(1.1);
    expect(r.v.commander.navState).toBe('POSCTL');
    expect(r.v.commander.userMode).toBe('OFFBOARD');
    expect(r.v.commander.systemStatus).toBe(MAV_STATE.CRITICAL);
    r.run(3);
    expect(r.v.body.velocityNedMS[2]).toBeCloseTo(0.7, 1);
    const landedAt = r.runUntil(() => r.v.body.landed[0] === 1, 30);
    expect(landedAt).toBeGreaterThan(0);
    const disarmedAt = r.runUntil(() => !r.v.commander.armed, 5);
    expect(disarmedAt - landedAt).toBeCloseTo(2, 1);
    r.run(0.05);
    expect(r.v.commander.navState).toBe('OFFBOARD');
  });

  it('acts per COM_OBL_RC_ACT: land mode', () => {
    const r = makeRig({ params: { COM_OBL_RC_ACT: 4 } });
    r.run(1.5);
    r.setMode('OFFBOARD');
    const stream = every50ms(() => r.v.commander.handleSetpoint(velocitySetpoint(0, 0, -2), r.t));
    r.run(1.2, stream);
    r.arm();
    r.run(3, stream);
    r.runUntil(() => r.v.commander.navState !== 'OFFBOARD', 2);
    expect(r.v.commander.navState).toBe('AUTO.LAND');
    // A latched land action stays even if the stream comes back.
    r.run(1, stream);
    expect(r.v.commander.navState).toBe('AUTO.LAND');
  });

  it('flies to a position setpoint and respects a changed MPC_XY_VEL_MAX', () => {
    const r = makeRig();
    r.run(1.5);
    expect(r.v.params.set('MPC_XY_VEL_MAX', 2).ok).toBe(true);
    expect(r.v.body.params.maxHorizontalSpeedMS).toBe(2);
    r.setMode('OFFBOARD');
    const stream = every50ms(() => r.v.commander.handleSetpoint(positionSetpoint(20, 5, -6), r.t));
    r.run(1.2, stream);
    expect(r.arm()).toBe(ACCEPTED);
    let maxSpeed = 0;
    r.run(30, (t) => {
      stream(t);
      maxSpeed = Math.max(maxSpeed, r.speedMS());
    });
    const p = r.v.body.positionNedM;
    expect(Math.hypot(p[0] - 20, p[1] - 5, p[2] + 6)).toBeLessThan(0.3);
    expect(maxSpeed).toBeLessThan(2.1);
    expect(maxSpeed).toBeGreaterThan(1.8);
  });
});

describe('takeoff, land, RTL', () => {
  it('takes off to MIS_TAKEOFF_ALT, then loiters there', () => {
    const r = makeRig({ params: { MIS_TAKEOFF_ALT: 5 } });
    r.run(1.5);
    expect(r.cmd(MAV_CMD.NAV_TAKEOFF, 0, 0, 0, Number.NaN, Number.NaN, Number.NaN, Number.NaN)).toBe(ACCEPTED);
    expect(r.arm()).toBe(ACCEPTED);
    r.run(1);
    expect(r.v.commander.navState).toBe('AUTO.TAKEOFF');
    expect(r.v.commander.landedState).toBe(3);
    const done = r.runUntil(() => r.v.commander.navState === 'AUTO.LOITER', 15);
    expect(done).toBeGreaterThan(0);
    r.run(5);
    expect(r.altitudeM()).toBeCloseTo(5, 0);
    expect(r.v.commander.userMode).toBe('AUTO.LOITER');
  });

  it('lands at MPC_LAND_SPEED near the ground and disarms after COM_DISARM_LAND', () => {
    const r = makeRig({ params: { MIS_TAKEOFF_ALT: 4 } });
    r.run(1.5);
    r.cmd(MAV_CMD.NAV_TAKEOFF);
    r.arm();
    r.runUntil(() => r.v.commander.navState === 'AUTO.LOITER', 15);
    r.run(2);
    expect(r.cmd(MAV_CMD.NAV_LAND)).toBe(ACCEPTED);
    r.run(2);
    expect(r.v.commander.landedState).toBe(4);
    expect(r.v.body.velocityNedMS[2]).toBeCloseTo(0.7, 1);
    const landedAt = r.runUntil(() => r.v.body.landed[0] === 1, 20);
    const disarmedAt = r.runUntil(() => !r.v.commander.armed, 5);
    expect(disarmedAt - landedAt).toBeCloseTo(2, 1);
    // LAND prevents arming, so after disarming the mode returns to the last one that does not.
    r.run(0.05);
    expect(r.v.commander.navState).toBe('AUTO.LOITER');
  });

  it('refuses disarming in the air unless forced', () => {
    const r = makeRig();
    r.run(1.5);
    r.cmd(MAV_CMD.NAV_TAKEOFF);
    r.arm();
    r.run(5);
    expect(r.cmd(MAV_CMD.COMPONENT_ARM_DISARM, 0)).toBe(TEMPORARILY_REJECTED);
    expect(r.cmd(MAV_CMD.COMPONENT_ARM_DISARM, 0, 21196)).toBe(ACCEPTED);
    r.run(0.5);
    expect(r.v.body.velocityNedMS[2]).toBeGreaterThan(1);
  });

  it('returns to launch: climbs to RTL_RETURN_ALT, flies home, descends, lands, disarms', () => {
    const r = makeRig({ params: { RTL_RETURN_ALT: 15, RTL_DESCEND_ALT: 8 } });
    r.run(1.5);
    r.setMode('OFFBOARD');
    const stream = every50ms(() => r.v.commander.handleSetpoint(positionSetpoint(30, -10, -5), r.t));
    r.run(1.2, stream);
    r.arm();
    r.run(20, stream);
    expect(r.cmd(MAV_CMD.NAV_RETURN_TO_LAUNCH)).toBe(ACCEPTED);
    let maxAlt = 0;
    let maxHorizontalAtLowAlt = 0;
    const track = (): void => {
      maxAlt = Math.max(maxAlt, r.altitudeM());
      if (r.altitudeM() < 14) maxHorizontalAtLowAlt = Math.max(maxHorizontalAtLowAlt, r.speedMS());
    };
    const landed = r.runUntil(() => !r.v.commander.armed, 120, track);
    expect(landed).toBeGreaterThan(0);
    expect(maxAlt).toBeGreaterThan(14.5);
    expect(maxAlt).toBeLessThan(16);
    const p = r.v.body.positionNedM;
    expect(Math.hypot(p[0], p[1])).toBeLessThan(1.5);
    expect(r.altitudeM()).toBeLessThan(0.05);
  });
});

describe('failsafes', () => {
  it('walks the low-battery ladder: warn, RTL at critical, land at emergency', () => {
    const r = makeRig({ params: { RTL_RETURN_ALT: 10 } });
    r.run(1.5);
    r.cmd(MAV_CMD.NAV_TAKEOFF);
    r.arm();
    r.runUntil(() => r.v.commander.navState === 'AUTO.LOITER', 15);
    r.v.body.setBatteryRemaining(0, 0.14);
    r.run(0.1);
    expect(r.v.commander.battery).toBe(1);
    expect(r.v.commander.navState).toBe('AUTO.LOITER');
    r.v.body.setBatteryRemaining(0, 0.06);
    r.run(0.1);
    expect(r.v.commander.battery).toBe(2);
    expect(r.v.commander.navState).toBe('AUTO.RTL');
    r.v.body.setBatteryRemaining(0, 0.045);
    r.run(0.1);
    expect(r.v.commander.battery).toBe(3);
    expect(r.v.commander.navState).toBe('AUTO.LAND');
    expect(r.v.commander.userMode).toBe('AUTO.LOITER');
    expect(r.runUntil(() => !r.v.commander.armed, 30)).toBeGreaterThan(0);
  });

  it('refuses to arm on a critical battery', () => {
    const r = makeRig();
    r.v.body.setBatteryRemaining(0, 0.06);
    r.run(1.5);
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
  });

  it('descends without a position estimate after GPS loss (shown as AUTO.LAND)', () => {
    const r = makeRig();
    r.run(1.5);
    r.cmd(MAV_CMD.NAV_TAKEOFF);
    r.arm();
    r.runUntil(() => r.v.commander.navState === 'AUTO.LOITER', 15);
    r.v.gpsOk = false;
    r.run(0.1);
    expect(r.v.commander.navState).toBe('DESCEND');
    expect(r.arm()).toBe(ACCEPTED); // already armed
    expect(r.runUntil(() => !r.v.commander.armed, 30)).toBeGreaterThan(0);
    expect(r.arm()).toBe(TEMPORARILY_REJECTED);
  });
});
