/**
 * Shared set-up of the child-process scenarios: a realtime simulated vehicle, `aerie fly` against it with the same
 * time scale, and a sampler of the vehicle's true state. Simulated time runs F times faster than the wall clock in
 * both processes; assertions are made on the simulator's time, which the machine's load can only slow down.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SitlFleet } from '../../sitl/index.js';
import { type AerieChild, spawnAerie } from './onboard-cli.js';
import { goToGoalModelFile } from './onboard-models.js';
import { altitudeM, horizontalSpeedMS, type VehicleSample, VehicleWatch } from './onboard-watch.js';
import { startTestVehicles, type TestVehicles } from './vehicles.js';

export interface ChildFlight {
  readonly sim: TestVehicles;
  readonly fleet: SitlFleet;
  readonly watch: VehicleWatch;
  readonly child: AerieChild;
  /** Simulated time and the vehicle's mode when the child had exited (null while it runs). */
  exitedAt(): { readonly timeS: number; readonly mode: string; readonly setpoints: number } | null;
  close(): Promise<void>;
}

export interface ChildFlightOptions {
  readonly portKey: string;
  /** Simulator speed and the child's --time-scale. */
  readonly speed: number;
  /** Drop point, NE metres. */
  readonly to: readonly [number, number];
  readonly cruiseAltM: number;
  /** AERIE_FAULT_INJECT for the child. */
  readonly faultInject?: string;
}

/**
 * Tolerances for two processes on one loaded machine. Under --time-scale the runtime's clock runs free of the
 * simulator's, which slows down when the machine cannot keep up: a simulator hiccup of 75 wall ms at speed 4 reads
 * as a 300 ms old position (state_stale: a latched hold) and a slow inference misses the 8 ms deadline. Neither is
 * under test here, so both are given room; the stall threshold stays well below the injected 2 s stall.
 */
const CHILD_CONFIG = {
  control: { policyDeadlineMs: 50, stallThresholdMs: 1000 },
  safety: { stateStaleMs: 1500, stateLostLandMs: 5000 },
};

export async function startChildFlight(options: ChildFlightOptions): Promise<ChildFlight> {
  const sim = await startTestVehicles(1, {
    portKey: options.portKey,
    timing: 'realtime',
    speed: options.speed,
    estimatorReadyS: 3,
    simulatedOnly: true,
    // Return at cruise height rather than climbing to PX4's default 60 m: the same behaviour, a shorter flight.
    params: { RTL_RETURN_ALT: options.cruiseAltM + 5 },
  });
  const fleet = sim.fleet as SitlFleet;
  const watch = new VehicleWatch(fleet, 0).start();
  const config = join(mkdtempSync(join(tmpdir(), 'aerie-fly-')), 'config.json');
  writeFileSync(config, JSON.stringify(CHILD_CONFIG));
  const args = [
    'fly',
    '--config',
    config,
    '--policy',
    goToGoalModelFile(),
    '--mavlink',
    sim.vehicles[0].url,
    '--to',
    options.to.join(','),
    '--alt',
    String(options.cruiseAltM),
    '--time-scale',
    String(options.speed),
    '--json',
  ];
  const child = spawnAerie(args, options.faultInject ? { AERIE_FAULT_INJECT: options.faultInject } : {});
  let exited: { timeS: number; mode: string; setpoints: number } | null = null;
  void child.exited.then(() => {
    // Read at once, in this process, before the simulator moves on.
    exited = { timeS: fleet.timeS, mode: fleet.status(0).mode, setpoints: fleet.counters(0).offboardSetpoints };
  });
  return {
    sim,
    fleet,
    watch,
    child,
    exitedAt: () => exited,
    async close() {
      child.kill('SIGKILL');
      await child.exited;
      watch.stop();
      await sim.close();
    },
  };
}

/** On the cruise leg at cruise height, flying at speed, in OFFBOARD. */
export const cruising = (cruiseAltM: number) => (s: VehicleSample) =>
  s.mode === 'OFFBOARD' && s.armed && altitudeM(s) > cruiseAltM - 1 && horizontalSpeedMS(s) > 3;

/** A readable line for assertion messages: the modes flown and the tail of the child's log. */
export function flightLog(flight: ChildFlight): string {
  const modes = flight.watch.samples
    .filter((s, i, all) => i === 0 || all[i - 1].mode !== s.mode)
    .map((s) => `${s.timeS.toFixed(2)} s ${s.mode}${s.failsafe !== 'none' ? ` (failsafe ${s.failsafe})` : ''}`);
  const log = flight.child.stderrTail().split('\n').slice(-30).join('\n');
  return `modes: ${modes.join(' -> ')}\nchild stdout:\n${flight.child.stdoutLines.join('\n')}\nchild stderr (tail):\n${log}`;
}
