/**
 * The onboard runtime's event loop stalls mid-cruise (AERIE_FAULT_INJECT=stall@S:MS busy-waits the child process):
 * PX4's offboard-loss failsafe starts during the stall; when the loop resumes the runtime must not resume
 * streaming (PX4 would take the stale setpoint as the offboard signal back), but command its stall action (return by
 * default) and let PX4 bring the vehicle home. `aerie fly` reports the delivery failed and exits 1.
 *
 * The child runs the compiled dist/: `npm test` builds first; run `npm run build` before running this file alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyPort } from '../../onboard/control/index.js';
import type { PolicyOutcome } from '../../onboard/policy/index.js';
import { observationIndex } from '../../shared/policy/index.js';
import { requireFreshBuild } from '../support/onboard-cli.js';
import { type ChildFlight, cruising, flightLog, startChildFlight } from '../support/onboard-flight.js';
import { LockstepRig } from '../support/onboard-lockstep.js';
import { VehicleWatch } from '../support/onboard-watch.js';

const SPEED = 4;
const CRUISE_ALT_M = 15;
const WAIT_MS = 120_000;

let flight: ChildFlight | null = null;
let rig: LockstepRig | null = null;
afterEach(async () => {
  await flight?.close();
  flight = null;
  await rig?.close();
  rig = null;
});

/**
 * Flies towards the goal at half speed; once `hang()` is called, the next answer waits until `release()`: an
 * inference caught under a stalled event loop, whose (perfectly good) answer comes back late.
 */
class HangingPolicy implements PolicyPort {
  private hangNext = false;
  private pending: ((o: PolicyOutcome) => void) | null = null;
  private readonly goalN = observationIndex('goal_n');
  private readonly goalE = observationIndex('goal_e');

  hang(): void {
    this.hangNext = true;
  }

  get hanging(): boolean {
    return this.pending !== null;
  }

  release(): void {
    this.pending?.({ ok: true, action: new Float32Array([0.5, 0, 0]), latencyUs: 0 });
    this.pending = null;
  }

  runWithDeadline(observation: ArrayLike<number>): Promise<PolicyOutcome> {
    const action = new Float32Array([0.5 * observation[this.goalN], 0.5 * observation[this.goalE], 0]);
    if (!this.hangNext) return Promise.resolve({ ok: true, action, latencyUs: 0 });
    this.hangNext = false;
    return new Promise((resolve) => {
      this.pending = resolve;
    });
  }
}

describe('an event-loop stall of the onboard process mid-cruise (aerie fly as a child process, SITL)', () => {
  it('does not resume streaming after the stall, returns, lands; the report says failed (exit 1)', async () => {
    requireFreshBuild();
    // 2 s without a tick, 20 s into the runtime's (simulated) clock: about 8 s into the 200 m cruise leg.
    flight = await startChildFlight({
      portKey: import.meta.url,
      speed: SPEED,
      to: [200, 0],
      cruiseAltM: CRUISE_ALT_M,
      faultInject: 'stall@20:2000',
    });
    const f = flight;
    const status = await f.child.exited;
    const log = flightLog(f);
    expect(status.code, log).toBe(1);
    const reportLine = f.child.stdoutLines.filter((l) => l.startsWith('{')).at(-1) ?? '{}';
    const report = JSON.parse(reportLine) as { outcome?: string; reason?: string; phaseDurationsS?: object };
    expect(report.outcome, log).toBe('failed');
    expect(report.reason, log).toMatch(
      /^return requested by the monitor \(event-loop stall: (no tick for|a tick took) \d+ ms\)$/,
    );

    // The stall came mid-cruise: the last setpoint PX4 ever got was sent while cruising.
    const lastSetpointS = f.watch.lastSetpointAtS();
    const beforeStall = f.watch.lastBefore(lastSetpointS);
    expect(beforeStall && cruising(CRUISE_ALT_M)(beforeStall), `${JSON.stringify(beforeStall)}\n${log}`).toBe(true);
    const atStall = f.watch.first(() => true, lastSetpointS);

    // PX4 failed safe on its own during the stall, about COM_OF_LOSS_T after the last setpoint.
    const failsafe = f.watch.first((s) => s.mode !== 'OFFBOARD', lastSetpointS);
    expect(failsafe?.failsafe, log).not.toBe('none');
    expect((failsafe?.timeS ?? 0) - lastSetpointS, log).toBeGreaterThanOrEqual(0.9);
    expect((failsafe?.timeS ?? 0) - lastSetpointS, log).toBeLessThanOrEqual(1.5);

    // After the stall the runtime commanded a return (its stall action) instead of streaming again: AUTO.RTL follows
    // PX4's failsafe, no OFFBOARD in between, and not one setpoint more ever reached the vehicle.
    const rtl = f.watch.first((s) => s.mode === 'AUTO.RTL', failsafe?.timeS ?? 0);
    expect(rtl, log).toBeDefined();
    expect(rtl?.failsafe, log).toBe('none');
    // The runtime was silent for the whole stall (2 simulated seconds) before anything came from it.
    expect((rtl?.timeS ?? 0) - lastSetpointS, log).toBeGreaterThanOrEqual(1.8);
    const modesAfter = f.watch.modeSequence(lastSetpointS);
    expect(modesAfter.slice(0, 3), log).toEqual(['OFFBOARD', failsafe?.mode, 'AUTO.RTL']);
    expect(f.watch.latest().setpoints, log).toBe(atStall?.setpoints);

    // Home, landed and disarmed.
    const down = await f.watch.until((s) => s.landed && !s.armed, WAIT_MS, 'landed and disarmed');
    expect(Math.hypot(down.positionNedM[0], down.positionNedM[1]), log).toBeLessThan(3);
    expect(
      f.watch.between(rtl?.timeS ?? 0, down.timeS).every((s) => s.mode === 'AUTO.RTL' || !s.armed),
      log,
    ).toBe(true);
  }, 150_000);

  it('a tick whose inference answers after a 2 s stall sends nothing: the stall action flies instead (lockstep)', async () => {
    rig = await LockstepRig.start({
      vehicles: 1,
      homeSpacingM: 0,
      portKey: import.meta.url,
      params: { RTL_RETURN_ALT: 20 },
    });
    const r = rig;
    const policy = new HangingPolicy();
    const rt = await r.addRuntime(0, { policyPort: policy });
    const watch = new VehicleWatch(r.fleet, 0).start();
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
    expect(await r.until(() => rt.loop.currentMission?.phase === 'cruise-out', 60)).toBe(true);
    await r.run(3);
    // The rig must not wait for the hung tick: time goes on without it, as it does for PX4.
    r.awaitTicks = false;
    policy.hang();
    expect(await r.until(() => policy.hanging, 1)).toBe(true);
    const hungAt = watch.latest();
    await r.run(2);
    // PX4 failed safe meanwhile: nothing came for 2 s.
    expect(watch.latest().mode).not.toBe('OFFBOARD');
    expect(watch.latest().failsafe).not.toBe('none');
    policy.release();
    r.awaitTicks = true;
    expect(await r.until(() => result !== null, 120)).toBe(true);
    const res = result as unknown as { outcome: string; reason: string };

    // The late answer never became a setpoint: the vehicle got nothing after the hang, went from its failsafe to
    // AUTO.RTL (the default stall action), never back to OFFBOARD, and came home.
    expect(watch.latest().setpoints).toBe(hungAt.setpoints);
    expect(watch.modeSequence(hungAt.timeS).slice(0, 3)).toEqual(['OFFBOARD', 'POSCTL', 'AUTO.RTL']);
    expect(res.outcome).toBe('failed');
    expect(res.reason).toMatch(/^return requested by the monitor \(event-loop stall: a tick took \d+ ms\)$/);
    expect(rt.loop.stats.summary().stalls).toBe(1);
    const end = watch.latest();
    expect(end.landed && !end.armed).toBe(true);
    expect(Math.hypot(end.positionNedM[0], end.positionNedM[1])).toBeLessThan(3);
  }, 60_000);
});
