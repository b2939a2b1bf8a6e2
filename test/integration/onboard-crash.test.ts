/**
 * The onboard runtime dies mid-cruise, for real: `aerie fly` runs as a child process against a simulated PX4 vehicle
 * (realtime, the same speed factor as its --time-scale), and is either SIGKILLed (nothing of it runs: PX4's own
 * offboard-loss failsafe must take over) or crashes with an uncaught exception (its fail-closed hook must stop the
 * stream and command a return before the process exits 70). Judged on the simulated vehicle's true state.
 *
 * The child runs the compiled dist/: `npm test` builds first; run `npm run build` before running this file alone.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireFreshBuild } from '../support/onboard-cli.js';
import { type ChildFlight, cruising, flightLog, startChildFlight } from '../support/onboard-flight.js';
import { altitudeM } from '../support/onboard-watch.js';

const SPEED = 4;
const CRUISE_ALT_M = 15;
/** Generous wall-clock guards: the assertions are on simulated time. */
const WAIT_MS = 90_000;

let flight: ChildFlight | null = null;
beforeAll(() => requireFreshBuild());
afterEach(async () => {
  await flight?.close();
  flight = null;
});

describe('the onboard process dies mid-cruise (aerie fly as a child process, SITL)', () => {
  it('SIGKILL: PX4 fails safe about 1 s after the last setpoint, descends, lands and disarms', async () => {
    flight = await startChildFlight({ portKey: import.meta.url, speed: SPEED, to: [200, 0], cruiseAltM: CRUISE_ALT_M });
    const f = flight;
    const cruise = await f.watch.until(cruising(CRUISE_ALT_M), WAIT_MS, 'the cruise leg');
    await f.watch.until((s) => s.timeS > cruise.timeS + 2, WAIT_MS, '2 s into the cruise');
    const killS = f.fleet.timeS;
    f.child.kill('SIGKILL');
    expect((await f.child.exited).signal).toBe('SIGKILL');

    const failsafe = await f.watch.until((s) => s.mode !== 'OFFBOARD', WAIT_MS, 'PX4 leaving OFFBOARD');
    const lastSetpointS = f.watch.lastSetpointAtS();
    const log = flightLog(f);
    // Nothing after the kill (datagrams already in flight may land within a simulator turn).
    expect(lastSetpointS, log).toBeLessThanOrEqual(killS + 0.1);
    // PX4's own failsafe (COM_OF_LOSS_T = 1 s), not a command: nothing was left to send one.
    expect(failsafe.failsafe, log).not.toBe('none');
    expect(failsafe.timeS - lastSetpointS, log).toBeGreaterThanOrEqual(0.9);
    expect(failsafe.timeS - lastSetpointS, log).toBeLessThanOrEqual(1.5);

    // It comes down where it is, lands and disarms (PX4 auto-disarm after landing).
    const down = await f.watch.until((s) => s.landed && !s.armed, WAIT_MS, 'landed and disarmed');
    const fiveLater = f.watch.first(() => true, failsafe.timeS + 5);
    expect(altitudeM(fiveLater ?? failsafe), log).toBeLessThan(altitudeM(failsafe) - 2);
    // (Once disarmed the failsafe clears and the HEARTBEAT shows the user's mode, OFFBOARD, again: as PX4 does.)
    expect(
      f.watch.between(failsafe.timeS, down.timeS).every((s) => s.mode !== 'OFFBOARD' || !s.armed),
      log,
    ).toBe(true);
    expect(f.watch.latest().setpoints).toBe(failsafe.setpoints);
  }, 120_000);

  it('uncaught exception (AERIE_FAULT_INJECT=crash@S): stream stops, return commanded, then exit 70', async () => {
    // At 20 s on the runtime's (simulated) clock: about 8 s into the 200 m cruise leg.
    flight = await startChildFlight({
      portKey: import.meta.url,
      speed: SPEED,
      to: [200, 0],
      cruiseAltM: CRUISE_ALT_M,
      faultInject: 'crash@20',
    });
    const f = flight;
    const status = await f.child.exited;
    const exit = f.exitedAt();
    const log = flightLog(f);
    expect(status.code, log).toBe(70);
    expect(f.child.stderrTail()).toMatch(/injected crash \(AERIE_FAULT_INJECT\); failing closed/);

    // It happened mid-cruise. (The last setpoint and the return command can reach the simulator between the same two
    // of its ticks: judge the flight on the state just before.)
    const lastSetpointS = f.watch.lastSetpointAtS();
    const beforeCrash = f.watch.lastBefore(lastSetpointS);
    expect(beforeCrash && cruising(CRUISE_ALT_M)(beforeCrash), `${JSON.stringify(beforeCrash)}\n${log}`).toBe(true);
    const atCrash = f.watch.first(() => true, lastSetpointS);

    // Before the process was gone, the vehicle was already returning, because the runtime asked: straight from
    // OFFBOARD to AUTO.RTL, ahead of PX4's own offboard-loss failsafe, with no setpoint after the crash.
    expect(exit?.mode, log).toBe('AUTO.RTL');
    const rtl = f.watch.first((s) => s.mode === 'AUTO.RTL', lastSetpointS);
    expect(rtl, log).toBeDefined();
    expect(rtl?.timeS ?? Number.NaN, log).toBeLessThanOrEqual(exit?.timeS ?? Number.NaN);
    expect(f.watch.first((s) => s.mode !== 'OFFBOARD', lastSetpointS)?.mode, log).toBe('AUTO.RTL');
    expect(
      f.watch.between(lastSetpointS).every((s) => s.failsafe === 'none'),
      log,
    ).toBe(true);
    expect(exit?.setpoints, log).toBe(atCrash?.setpoints);

    // PX4 brings it home, lands and disarms; the dead process sends nothing more.
    const down = await f.watch.until((s) => s.landed && !s.armed, WAIT_MS, 'landed and disarmed');
    expect(Math.hypot(down.positionNedM[0], down.positionNedM[1]), log).toBeLessThan(3);
    expect(f.watch.latest().setpoints).toBe(atCrash?.setpoints);
  }, 120_000);
});
