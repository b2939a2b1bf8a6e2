import { describe, expect, it } from 'vitest';
import { DeliveryMission } from './delivery-mission.js';
import type { MissionCommand, MissionEvent, MissionOutput, MissionPlan, MissionVehicleView, Vec3 } from './types.js';

const PLAN: MissionPlan = {
  dropNeM: [60, 40],
  returnNeM: [0, 0],
  cruiseAltM: 20,
  releaseAltM: 5,
  releaseBy: 'hover',
  arrivalRadiusM: 2,
};

/**
 * A toy autopilot for the mission's unit tests: velocity tracking without lag, PX4-like command answers
 * (arming refused for the first `armRefusals` tries), AUTO.LAND descends and disarms on touchdown.
 */
class ToyVehicle {
  pos: [number, number, number] = [0, 0, 0];
  vel: Vec3 = [0, 0, 0];
  armed = false;
  mode = 'POSCTL';
  battery = 0.9;
  armRefusals = 2;
  commands: MissionCommand['kind'][] = [];

  view(): MissionVehicleView {
    return {
      positionNedM: [...this.pos],
      velocityNedMS: this.vel,
      armed: this.armed,
      modeName: this.mode,
      landed: this.pos[2] >= -0.01,
      batteryRemaining: this.battery,
      positionValid: true,
    };
  }

  answer(cmd: MissionCommand): { ok: boolean; reason?: string } {
    this.commands.push(cmd.kind);
    if (cmd.kind === 'set-mode') this.mode = cmd.mode;
    if (cmd.kind === 'arm') {
      if (this.armRefusals-- > 0) return { ok: false, reason: 'rejected' };
      this.armed = true;
    }
    if (cmd.kind === 'land') this.mode = 'AUTO.LAND';
    if (cmd.kind === 'return') this.mode = 'AUTO.RTL';
    if (cmd.kind === 'hold') this.mode = 'AUTO.LOITER';
    return { ok: true };
  }

  fly(out: MissionOutput, policyGoalSpeedMS: number, dtS: number): void {
    let v: Vec3 = [0, 0, 0];
    if (this.mode === 'AUTO.LAND' || this.mode === 'AUTO.RTL') v = [0, 0, 1];
    else if (this.mode === 'OFFBOARD' && this.armed && out.stream) {
      const g = out.guidance;
      if (g.kind === 'velocity') v = g.velocityNedMS;
      if (g.kind === 'policy') {
        const d = [g.goalNedM[0] - this.pos[0], g.goalNedM[1] - this.pos[1], g.goalNedM[2] - this.pos[2]];
        const n = Math.hypot(...d);
        const s = Math.min(policyGoalSpeedMS, n);
        v = n > 0 ? [(d[0] / n) * s, (d[1] / n) * s, (d[2] / n) * s] : [0, 0, 0];
      }
    }
    this.vel = v;
    for (let k = 0; k < 3; k++) this.pos[k] += v[k] * dtS;
    if (this.pos[2] > 0) this.pos[2] = 0;
    if (this.armed && this.pos[2] === 0 && (this.mode === 'AUTO.LAND' || this.mode === 'AUTO.RTL')) this.armed = false;
  }
}

function run(mission: DeliveryMission, vehicle: ToyVehicle, maxS: number, onTick?: (tMs: number) => void) {
  const events: MissionEvent[] = [];
  const phases: string[] = [];
  mission.start(0);
  for (let t = 0; t <= maxS * 1000 && mission.outcome === null; t += 20) {
    onTick?.(t);
    const out = mission.step(t, vehicle.view());
    events.push(...out.events);
    for (const e of out.events) if (e.kind === 'phase') phases.push(e.phase);
    if (out.command) {
      const r = vehicle.answer(out.command);
      mission.commandDone({ command: out.command.kind, ...r });
    }
    vehicle.fly(out, 8, 0.02);
  }
  return { events, phases };
}

describe('DeliveryMission', () => {
  it('flies a whole delivery: warmup before OFFBOARD, arm retried, policy legs, release from a hover, land', () => {
    const vehicle = new ToyVehicle();
    const mission = new DeliveryMission(PLAN);
    const { events, phases } = run(mission, vehicle, 300);
    expect(mission.outcome).toBe('delivered');
    expect(phases).toEqual([
      'preflight',
      'warmup',
      'offboard',
      'arming',
      'takeoff',
      'cruise-out',
      'descend',
      'release',
      'climb',
      'cruise-back',
      'landing',
      'done',
    ]);
    expect(events.at(-1)).toMatchObject({ kind: 'outcome', outcome: 'delivered' });
    expect(vehicle.commands.filter((c) => c === 'arm')).toHaveLength(3);
    expect(events.filter((e) => e.kind === 'command-refused')).toHaveLength(2);
    expect(events.some((e) => e.kind === 'released')).toBe(true);
    expect(Math.hypot(vehicle.pos[0], vehicle.pos[1])).toBeLessThan(PLAN.arrivalRadiusM + 0.5);
    expect(vehicle.armed).toBe(false);
  });

  it('streams for the warmup time before asking for OFFBOARD', () => {
    const mission = new DeliveryMission(PLAN);
    const vehicle = new ToyVehicle();
    mission.start(0);
    let firstStreamMs = -1;
    for (let t = 0; t < 5000; t += 20) {
      const out = mission.step(t, vehicle.view());
      if (out.stream && firstStreamMs < 0) firstStreamMs = t;
      if (out.command?.kind === 'set-mode') {
        expect(t - firstStreamMs).toBeGreaterThan(1000);
        return;
      }
    }
    expect.unreachable('no OFFBOARD request');
  });

  it('puts the parcel down by landing when releaseBy is land, then takes off again', () => {
    const vehicle = new ToyVehicle();
    vehicle.armRefusals = 0;
    const mission = new DeliveryMission({ ...PLAN, releaseBy: 'land' });
    const { phases, events } = run(mission, vehicle, 400);
    expect(mission.outcome).toBe('delivered');
    expect(phases).toContain('landed-release');
    expect(phases.filter((p) => p === 'takeoff')).toHaveLength(2);
    expect(events.find((e) => e.kind === 'released')?.detail).toContain('landing');
  });

  it('refuses to start on a low battery', () => {
    const vehicle = new ToyVehicle();
    vehicle.battery = 0.1;
    const mission = new DeliveryMission(PLAN, {
      streamWarmupMs: 1500,
      armTimeoutMs: 5000,
      releaseHoldMs: 1000,
      phaseTimeoutMs: 60_000,
      commandRetryPauseMs: 500,
    });
    run(mission, vehicle, 20);
    expect(mission.outcome).toBe('failed');
    expect(mission.reason).toMatch(/battery 10 % below 30 %/);
    expect(vehicle.commands).toEqual([]);
  });

  it('gives up arming after the timeout with the reason', () => {
    const vehicle = new ToyVehicle();
    vehicle.armRefusals = 1e9;
    const mission = new DeliveryMission(PLAN, {
      streamWarmupMs: 1500,
      armTimeoutMs: 10_000,
      releaseHoldMs: 1000,
      phaseTimeoutMs: 60_000,
      commandRetryPauseMs: 1000,
    });
    run(mission, vehicle, 30);
    expect(mission.outcome).toBe('failed');
    expect(mission.reason).toMatch(/arming refused/);
    const arms = vehicle.commands.filter((c) => c === 'arm').length;
    expect(arms).toBeGreaterThanOrEqual(8); // about one try a second, not a flood
    expect(arms).toBeLessThanOrEqual(11);
  });

  it('aborts: flies back to the depot under the policy and lands, outcome aborted', () => {
    const vehicle = new ToyVehicle();
    vehicle.armRefusals = 0;
    const mission = new DeliveryMission(PLAN);
    let asked = false;
    const { phases } = run(mission, vehicle, 300, () => {
      if (!asked && mission.phase === 'cruise-out' && Math.hypot(vehicle.pos[0], vehicle.pos[1]) > 30) {
        mission.request('abort');
        asked = true;
      }
    });
    expect(mission.outcome).toBe('aborted');
    expect(phases).not.toContain('descend');
    expect(phases.slice(-3)).toEqual(['cruise-back', 'landing', 'done']);
    expect(Math.hypot(vehicle.pos[0], vehicle.pos[1])).toBeLessThan(3);
  });

  it('hands the vehicle to PX4 on a monitor land request, stops streaming, outcome failed', () => {
    const vehicle = new ToyVehicle();
    vehicle.armRefusals = 0;
    const mission = new DeliveryMission(PLAN);
    let sawFailsafeStream = false;
    mission.start(0);
    for (let t = 0; t < 200_000 && mission.outcome === null; t += 20) {
      if (mission.phase === 'cruise-out' && vehicle.mode === 'OFFBOARD') mission.request('land', 'monitor');
      const out = mission.step(t, vehicle.view());
      if (out.phase === 'failsafe' && out.stream) sawFailsafeStream = true;
      if (out.command) mission.commandDone({ command: out.command.kind, ...vehicle.answer(out.command) });
      vehicle.fly(out, 8, 0.02);
    }
    expect(sawFailsafeStream).toBe(false);
    expect(vehicle.commands.at(-1)).toBe('land');
    expect(mission.outcome).toBe('failed');
    expect(mission.reason).toBe('land requested by the monitor');
  });

  it('ends aborted, not failed, when an operator asks PX4 to land; a monitor request keeps it failed', () => {
    const fly = (requests: (m: DeliveryMission) => void) => {
      const vehicle = new ToyVehicle();
      vehicle.armRefusals = 0;
      const mission = new DeliveryMission(PLAN);
      mission.start(0);
      let asked = false;
      for (let t = 0; t < 200_000 && mission.outcome === null; t += 20) {
        if (!asked && mission.phase === 'cruise-out') {
          requests(mission);
          asked = true;
        }
        const out = mission.step(t, vehicle.view());
        if (out.command) mission.commandDone({ command: out.command.kind, ...vehicle.answer(out.command) });
        vehicle.fly(out, 8, 0.02);
      }
      return mission;
    };
    const byOperator = fly((m) => m.request('land'));
    expect(byOperator.outcome).toBe('aborted');
    expect(byOperator.reason).toBe('land requested by the operator');
    const monitorThenOperator = fly((m) => {
      m.request('return', 'monitor', 'battery_low');
      m.request('land');
    });
    expect(monitorThenOperator.outcome).toBe('failed');
    expect(monitorThenOperator.reason).toBe(
      'return requested by the monitor (battery_low); then land requested by the operator',
    );
    const monitorWithRules = fly((m) => m.request('land', 'monitor', 'policy_fault_persistent'));
    expect(monitorWithRules.outcome).toBe('failed');
    expect(monitorWithRules.reason).toBe('land requested by the monitor (policy_fault_persistent)');
  });

  it('never downgrades a failsafe: land stays land after a later hold request', () => {
    const vehicle = new ToyVehicle();
    vehicle.armRefusals = 0;
    const mission = new DeliveryMission(PLAN);
    mission.start(0);
    let t = 0;
    for (; mission.phase !== 'cruise-out'; t += 20) {
      const out = mission.step(t, vehicle.view());
      if (out.command) mission.commandDone({ command: out.command.kind, ...vehicle.answer(out.command) });
      vehicle.fly(out, 8, 0.02);
    }
    mission.request('land');
    mission.request('hold');
    const out = mission.step(t, vehicle.view());
    expect(out.phase).toBe('failsafe');
    expect(out.command).toEqual({ kind: 'land' });
  });

  it('resumes a vehicle already in flight on a cruise leg and finishes the delivery', () => {
    const vehicle = new ToyVehicle();
    vehicle.armed = true;
    vehicle.mode = 'OFFBOARD';
    vehicle.pos = [10, 10, -20];
    const mission = new DeliveryMission(PLAN);
    mission.resumeAirborne(0, 'cruise-out');
    const phases: string[] = [];
    for (let t = 0; t < 300_000 && mission.outcome === null; t += 20) {
      const out = mission.step(t, vehicle.view());
      for (const e of out.events) if (e.kind === 'phase') phases.push(e.phase);
      if (out.command) mission.commandDone({ command: out.command.kind, ...vehicle.answer(out.command) });
      vehicle.fly(out, 8, 0.02);
    }
    expect(mission.outcome).toBe('delivered');
    expect(phases.slice(0, 2)).toEqual(['cruise-out', 'descend']);
    expect(vehicle.commands).not.toContain('arm');
  });
});

describe('DeliveryMission steady steps', () => {
  it('hands out one frozen output while nothing changes, and a new one on a phase change, request or event', () => {
    const mission = new DeliveryMission(PLAN);
    const vehicle = new ToyVehicle();
    vehicle.pos = [0, 0, -PLAN.cruiseAltM];
    vehicle.armed = true;
    vehicle.mode = 'OFFBOARD';
    mission.resumeAirborne(0, 'cruise-out');
    const first = mission.step(20, vehicle.view());
    expect(first.events.map((e) => e.kind)).toEqual(['phase']);
    const steady = mission.step(40, vehicle.view());
    expect(steady).toEqual({
      phase: 'cruise-out',
      stream: true,
      cruising: true,
      guidance: { kind: 'policy', goalNedM: [PLAN.dropNeM[0], PLAN.dropNeM[1], -PLAN.cruiseAltM] },
      command: null,
      events: [],
    });
    expect(Object.isFrozen(steady) && Object.isFrozen(steady.guidance) && Object.isFrozen(steady.events)).toBe(true);
    vehicle.pos = [10, 5, -PLAN.cruiseAltM];
    expect(mission.step(60, vehicle.view())).toBe(steady);
    mission.request('land', 'monitor');
    const failsafe = mission.step(80, vehicle.view());
    expect(failsafe).not.toBe(steady);
    expect(failsafe).toMatchObject({ phase: 'failsafe', stream: false, command: { kind: 'land' } });
    expect(failsafe.events.map((e) => e.kind)).toEqual(['phase']);
    // The land command stays in flight: the following steps are quiet and the same again.
    const quiet = mission.step(100, vehicle.view());
    expect(quiet).toMatchObject({ phase: 'failsafe', stream: false, command: null, events: [] });
    expect(mission.step(120, vehicle.view())).toBe(quiet);
    expect(steady.phase).toBe('cruise-out');
  });
});
