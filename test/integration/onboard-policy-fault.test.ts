/**
 * A policy that breaks in flight: an ONNX model that flies its cruise leg sensibly and then answers NaN on every tick
 * (test/support/onboard-models.ts), flown by the real onboard runtime against a simulated PX4 vehicle over UDP in
 * lockstep. The safety filter must brake (never send the NaN), the monitor must escalate hold -> land, the mission
 * must end failed with the monitor's reason, and PX4 must land the vehicle in AUTO.LAND and disarm, all judged on the
 * simulated vehicle's true state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TickReport } from '../../onboard/control/index.js';
import { LockstepRig } from '../support/onboard-lockstep.js';
import { nanNearGoalPolicyModel, writeTempModel } from '../support/onboard-models.js';
import { horizontalSpeedMS, VehicleWatch } from '../support/onboard-watch.js';

let rig: LockstepRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const DROP_NE: [number, number] = [-70, 0];
/** The model answers NaN within this distance of its goal (the drop point, 70 m south). */
const NAN_RADIUS_M = 25;

describe('a policy fault streak in flight (lockstep SITL)', () => {
  it('brakes without sending the NaN, escalates hold then land, and PX4 lands and disarms', async () => {
    rig = await LockstepRig.start({ vehicles: 1, homeSpacingM: 0, portKey: import.meta.url });
    const r = rig;
    const policyPath = writeTempModel(nanNearGoalPolicyModel({ radiusM: NAN_RADIUS_M, speedFraction: 0.5 }));
    // Under lockstep the wall-clock deadline only guards against a hung model: keep it out of the way.
    const rt = await r.addRuntime(0, { policyPath, control: { policyDeadlineMs: 50 } });
    const watch = new VehicleWatch(r.fleet, 0).start();

    const ticks: { timeS: number; report: TickReport }[] = [];
    rt.onTick((report) => ticks.push({ timeS: r.timeS, report }));

    expect(await r.until(() => rt.link.isUp, 10)).toBe(true);
    let result: { outcome: string; reason: string } | null = null;
    void rt
      .fly({
        dropNeM: DROP_NE,
        returnNeM: [0, 0],
        cruiseAltM: 15,
        releaseAltM: 5,
        releaseBy: 'hover',
        arrivalRadiusM: 2,
      })
      .then((res) => {
        result = res;
      });
    expect(await r.until(() => result !== null, 180)).toBe(true);
    const res = result as unknown as { outcome: string; reason: string };

    // The faults began on the cruise leg, at the model's radius from the drop point.
    const firstFault = ticks.find((t) => t.report.decision.policyFault);
    expect(firstFault).toBeDefined();
    const faultS = firstFault?.timeS ?? Number.NaN;
    expect(firstFault?.report.phase).toBe('cruise-out');
    expect(firstFault?.report.policy).toMatchObject({ ok: false, reason: 'non-finite' });
    const atFault = watch.first(() => true, faultS);
    expect(atFault).toBeDefined();
    const faultPos = atFault?.positionNedM ?? [0, 0, 0];
    const faultSpeed = atFault ? horizontalSpeedMS(atFault) : 0;
    expect(Math.hypot(faultPos[0] - DROP_NE[0], faultPos[1] - DROP_NE[1])).toBeLessThan(NAN_RADIUS_M + 1);
    expect(faultSpeed, 'the vehicle was cruising when the model broke').toBeGreaterThan(2);

    // The monitor escalated: hold on the streak, then land on the persistent streak, in that order.
    const transitions = ticks.flatMap((t) => (t.report.decision.monitor.transition ? [t] : []));
    const toHold = transitions.find((t) => t.report.decision.monitor.transition?.to === 'hold');
    const toLand = transitions.find((t) => t.report.decision.monitor.transition?.to === 'land');
    expect(toHold?.report.decision.monitor.transition?.rules).toContain('policy_fault_streak');
    expect(toLand?.report.decision.monitor.transition?.rules).toContain('policy_fault_persistent');
    expect(toHold?.timeS ?? Number.NaN).toBeLessThan(toLand?.timeS ?? Number.NaN);
    // 5 and 50 faults in a row at 50 Hz: 0.1 s and 1 s after the first.
    expect((toLand?.timeS ?? 0) - faultS).toBeGreaterThan(0.9);
    expect((toLand?.timeS ?? 0) - faultS).toBeLessThan(1.3);

    // The mission failed, and says why.
    expect(res.outcome).toBe('failed');
    expect(res.reason).toMatch(/^land requested by the monitor \(.*policy_fault_persistent/);

    // No NaN ever went out: every setpoint sent was finite, a faulted tick's setpoint was a hover, and the vehicle
    // refused none.
    for (const { report } of ticks) {
      if (!report.sent) continue;
      const v = report.decision.velocityNedMS;
      expect([v.n, v.e, v.d].every(Number.isFinite)).toBe(true);
      if (report.decision.policyFault) expect(Math.hypot(v.n, v.e)).toBe(0);
    }
    expect(watch.latest().rejectedSetpoints).toBe(0);

    // The vehicle braked: never faster than when the faults began, and slow from 3 s on, until it landed.
    const touchdown = watch.first((s) => s.landed, faultS);
    expect(touchdown).toBeDefined();
    const touchdownS = touchdown?.timeS ?? Number.NaN;
    const afterFault = watch.between(faultS, touchdownS);
    expect(Math.max(...afterFault.map(horizontalSpeedMS))).toBeLessThanOrEqual(faultSpeed + 0.2);
    expect(Math.max(...watch.between(faultS + 3, touchdownS).map(horizontalSpeedMS))).toBeLessThan(0.5);
    const end = watch.latest().positionNedM;
    expect(Math.hypot(end[0] - faultPos[0], end[1] - faultPos[1]), 'stopped near where it broke').toBeLessThan(8);

    // PX4 flew the landing because the runtime asked: OFFBOARD straight to AUTO.LAND, no PX4 failsafe in between,
    // no setpoint after the switch, AUTO.LAND down to the ground, then disarmed.
    const handover = watch.first((s) => s.mode !== 'OFFBOARD', faultS);
    expect(handover?.mode).toBe('AUTO.LAND');
    expect(watch.between(faultS).every((s) => s.failsafe === 'none')).toBe(true);
    const landing = watch.between(handover?.timeS ?? 0, touchdownS);
    expect(landing.every((s) => s.mode === 'AUTO.LAND')).toBe(true);
    expect(watch.latest().setpoints).toBe(handover?.setpoints);
    expect(watch.latest().armed).toBe(false);
    expect(watch.latest().landed).toBe(true);
  }, 60_000);
});
