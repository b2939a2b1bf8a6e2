import { describe, expect, it } from 'vitest';
import { MAV_CMD } from '../shared/mavlink/index.js';
import { SitlFleet } from './fleet.js';
import { runFlatOut } from './runner.js';

async function hoveringFleet(seed: number, vehicles = 2): Promise<SitlFleet> {
  const fleet = await SitlFleet.start({ vehicles, seed, network: 'none', estimatorReadyS: 0.5, homeSpacingM: 5 });
  fleet.stepLockstep(0.6);
  for (const v of fleet.vehicles) {
    v.commander.handleCommand(MAV_CMD.NAV_TAKEOFF, [], fleet.timeS);
    v.commander.handleCommand(MAV_CMD.COMPONENT_ARM_DISARM, [1], fleet.timeS);
  }
  fleet.injectFault('all', { kind: 'wind', northMS: 3, eastMS: -1, downMS: 0, gustStdMS: 1.5 });
  return fleet;
}

describe('SitlFleet in lockstep', () => {
  it('advances exactly the simulated time asked for, tick by tick', async () => {
    const fleet = await SitlFleet.start({ vehicles: 1, network: 'none', tickS: 0.02 });
    fleet.stepLockstep(1.23);
    expect(fleet.timeS).toBeCloseTo(1.23, 9);
    fleet.stepLockstep(0);
    expect(fleet.timeS).toBeCloseTo(1.23, 9);
    expect(() => fleet.stepLockstep(-1)).toThrow(/CONFIG_INVALID_VALUE/);
    await fleet.close();
  });

  it('is deterministic for a seed (wind, turbulence, flight) and differs across seeds', async () => {
    const a = await hoveringFleet(3);
    const b = await hoveringFleet(3);
    const c = await hoveringFleet(4);
    for (const f of [a, b, c]) f.stepLockstep(20);
    expect(a.status(1).positionNedM).toEqual(b.status(1).positionNedM);
    expect(a.status(1).positionNedM).not.toEqual(c.status(1).positionNedM);
    expect(a.status(0).positionNedM).not.toEqual(a.status(1).positionNedM);
    expect(a.status(1).altitudeM).toBeCloseTo(2.5, 0);
    expect(a.status(1).mode).toBe('AUTO.LOITER');
    expect(a.status(1).sysid).toBe(2);
    expect(a.status(1).lonDeg).toBeGreaterThan(a.status(0).lonDeg);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('runs scheduled faults at their simulated time; a dead vehicle falls silent', async () => {
    const fleet = await hoveringFleet(1);
    fleet.stepLockstep(10);
    fleet.scheduleFault(fleet.timeS + 2, 0, { kind: 'die' });
    fleet.stepLockstep(1.99);
    expect(fleet.status(0).dead).toBe(false);
    fleet.stepLockstep(0.02);
    expect(fleet.status(0).dead).toBe(true);
    const sent = fleet.counters(0).framesOut;
    fleet.stepLockstep(3);
    expect(fleet.counters(0).framesOut).toBe(sent);
    expect(fleet.counters(1).framesOut).toBeGreaterThan(sent);
    expect(fleet.status(0).altitudeM).toBeLessThan(0.05);
    expect(fleet.status(1).altitudeM).toBeGreaterThan(2);
    await fleet.close();
  });

  it('reports a realtime factor for a flat-out run', async () => {
    const r = await runFlatOut(2, 5);
    expect(r.simS).toBeCloseTo(5, 9);
    expect(r.wallS).toBeGreaterThan(0);
    expect(r.realtimeFactor).toBeCloseTo(r.simS / r.wallS, 6);
    expect(r.messagesOut).toBeGreaterThan(2 * 5 * 80);
  });
});
