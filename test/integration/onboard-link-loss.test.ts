/**
 * The autopilot link lost mid-cruise, both directions, for 4 simulated seconds (the simulated vehicle's onboard link
 * drops every datagram), with the real onboard runtime flying a policy in lockstep. PX4 fails safe on its
 * own (no setpoints); the runtime sees the heartbeat go, stops streaming, and once the link is back hands the vehicle
 * to AUTO.LAND instead of resuming: the vehicle lands and disarms, the delivery ends failed. The policy is the
 * simple go-to-goal model: this scenario is about the link, not the policy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MonitorRuleName } from '../../onboard/safety/index.js';
import { LockstepRig } from '../support/onboard-lockstep.js';
import { goToGoalModelFile } from '../support/onboard-models.js';
import { altitudeM, horizontalSpeedMS, VehicleWatch } from '../support/onboard-watch.js';

let rig: LockstepRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const DROP_S = 4;

describe('autopilot link loss in flight (lockstep SITL)', () => {
  it('PX4 fails safe, the runtime stops streaming and, with the link back, lands the vehicle', async () => {
    rig = await LockstepRig.start({ vehicles: 1, homeSpacingM: 0, portKey: import.meta.url });
    const r = rig;
    const rt = await r.addRuntime(0, { policyPath: goToGoalModelFile(), control: { policyDeadlineMs: 50 } });
    const watch = new VehicleWatch(r.fleet, 0).start();

    const linkEvents: { kind: 'up' | 'down'; timeS: number }[] = [];
    rt.link.onLinkDown(() => linkEvents.push({ kind: 'down', timeS: r.timeS }));
    rt.link.onLinkUp(() => linkEvents.push({ kind: 'up', timeS: r.timeS }));
    const fired: { rule: MonitorRuleName; timeS: number }[] = [];
    const sentAtS: number[] = [];
    let phase = '';
    let cruiseFromS = Number.NaN;
    rt.onTick((t) => {
      phase = t.phase;
      if (phase === 'cruise-out' && Number.isNaN(cruiseFromS)) cruiseFromS = r.timeS;
      if (t.sent) sentAtS.push(r.timeS);
      for (const rule of t.decision.monitor.fired) fired.push({ rule, timeS: r.timeS });
    });

    expect(await r.until(() => rt.link.isUp, 10)).toBe(true);
    let result: { outcome: string; reason: string } | null = null;
    void rt
      .fly({
        dropNeM: [150, 0],
        returnNeM: [0, 0],
        cruiseAltM: 15,
        releaseAltM: 5,
        releaseBy: 'hover',
        arrivalRadiusM: 2,
      })
      .then((res) => {
        result = res;
      });
    // Four seconds into the cruise leg, at speed.
    expect(await r.until(() => r.timeS > cruiseFromS + 4, 60)).toBe(true);
    const before = watch.latest();
    expect(before.mode).toBe('OFFBOARD');
    expect(horizontalSpeedMS(before)).toBeGreaterThan(3);
    const dropS = r.timeS;
    r.fleet.injectFault(0, { kind: 'link-drop', direction: 'both', link: 'onboard', durationS: DROP_S });
    const backS = dropS + DROP_S;

    expect(await r.until(() => result !== null, 180)).toBe(true);
    const res = result as unknown as { outcome: string; reason: string };

    // PX4's offboard-loss failsafe: out of OFFBOARD about COM_OF_LOSS_T (1 s) after the last setpoint, on its own.
    const lastSetpointS = watch.lastSetpointAtS();
    expect(lastSetpointS).toBeLessThanOrEqual(dropS);
    const failsafe = watch.first((s) => s.mode !== 'OFFBOARD', dropS);
    expect(failsafe?.failsafe).not.toBe('none');
    expect((failsafe?.timeS ?? 0) - lastSetpointS).toBeGreaterThanOrEqual(0.95);
    expect((failsafe?.timeS ?? 0) - lastSetpointS).toBeLessThanOrEqual(1.2);
    // ...and it descends (no sticks: PX4 lets the vehicle down at the land speed).
    const failsafeAlt = altitudeM(failsafe ?? before);
    const atBack = watch.first(() => true, backS);
    expect(altitudeM(atBack ?? before)).toBeLessThan(failsafeAlt - 1);

    // The runtime noticed: the link went down during the outage (heartbeat silent for heartbeatLossMs), the monitor
    // fired autopilot_link_lost, and it sent nothing from then on.
    const down = linkEvents.find((e) => e.kind === 'down');
    expect(down?.timeS ?? Number.NaN).toBeGreaterThan(dropS);
    expect(down?.timeS ?? Number.NaN).toBeLessThan(backS);
    const linkLost = fired.find((f) => f.rule === 'autopilot_link_lost');
    expect(linkLost?.timeS ?? Number.NaN).toBeGreaterThan(dropS);
    expect(sentAtS.filter((t) => t > (down?.timeS ?? 0))).toEqual([]);
    expect(linkEvents.some((e) => e.kind === 'up' && e.timeS > backS)).toBe(true);

    // With the link back the vehicle never got another setpoint (the stream did not resume) and the runtime's land
    // command took it out of PX4's failsafe into AUTO.LAND, down to the ground.
    expect(watch.latest().setpoints).toBe(before.setpoints);
    const land = watch.first((s) => s.mode === 'AUTO.LAND', backS);
    expect(land).toBeDefined();
    expect(land?.failsafe).toBe('none');
    expect(land?.timeS ?? Number.NaN).toBeLessThan(backS + 3);
    const touchdown = watch.first((s) => s.landed, land?.timeS ?? 0);
    expect(watch.between(land?.timeS ?? 0, touchdown?.timeS).every((s) => s.mode === 'AUTO.LAND')).toBe(true);
    expect(watch.latest().armed).toBe(false);
    expect(watch.latest().landed).toBe(true);

    expect(res.outcome).toBe('failed');
    expect(res.reason).toMatch(/^land requested by the monitor \((state_lost|autopilot_link_lost)/);
  }, 60_000);
});
