/**
 * Onboard runtimes and a simulated fleet on ONE simulated clock: the fleet steps a control tick at a time, the
 * runtimes' ManualClock (autopilot link timers, the loop driver's timer) is advanced to the fleet's time, and the
 * sockets deliver between steps. Real UDP, the real OnboardRuntime (link, mission, loop, filter, driver); only time
 * is stepped, so a scenario runs as fast as the machine allows and a loaded machine slows it down without changing
 * what happens in simulated time.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { ManualClock } from '../../onboard/link/index.js';
import { OnboardRuntime, type RuntimeOptions } from '../../onboard/runtime.js';
import { type GeoPoint, geoToNed, type Ned, nedToGeo } from '../../shared/geo/index.js';
import { PX4_SITL_HOME, type SitlFleet, type SitlFleetOptions } from '../../sitl/index.js';
import { startTestVehicles, type TestVehicles } from './vehicles.js';

/** Longest wall time a step waits for a running tick (a hung one is the scenario's business). */
const TICK_WAIT_MAX_MS = 1000;

export interface LockstepOptions {
  readonly vehicles: number;
  /** Vehicle i's home is this far east of vehicle 0's (m). */
  readonly homeSpacingM: number;
  readonly portKey: string;
  readonly estimatorReadyS?: number;
  readonly seed?: number;
  /** PX4 parameters of every vehicle. */
  readonly params?: SitlFleetOptions['params'];
  /** Socket turns after each fleet step and after each clock advance (default 3). */
  readonly ioTurns?: number;
}

/** What each runtime is built with; `link.mavlink` and `clock` are filled in. */
export type LockstepRuntimeOptions = Omit<RuntimeOptions, 'clock' | 'timeScale' | 'link'> & {
  readonly link?: Record<string, unknown>;
};

export class LockstepRig {
  readonly clock = new ManualClock(0);
  readonly runtimes: OnboardRuntime[] = [];
  /** Each vehicle's home in vehicle 0's NED frame (m): add it to a vehicle's own NED to get the common frame. */
  readonly homeOffsetsNedM: readonly Ned[];
  private readonly afterStep: ((timeS: number) => void)[] = [];

  private constructor(
    readonly sim: TestVehicles,
    readonly fleet: SitlFleet,
    private readonly ioTurns: number,
    homes: readonly GeoPoint[],
  ) {
    this.homeOffsetsNedM = homes.map((h) => geoToNed(homes[0], h));
  }

  static async start(options: LockstepOptions): Promise<LockstepRig> {
    const sim = await startTestVehicles(options.vehicles, {
      portKey: options.portKey,
      timing: 'lockstep',
      simulatedOnly: true,
      homeSpacingM: options.homeSpacingM,
      estimatorReadyS: options.estimatorReadyS ?? 1,
      seed: options.seed,
      params: options.params,
    });
    if (sim.fleet === null) throw new Error('lockstep needs the simulated fleet');
    // The fleet puts vehicle i's home homeSpacingM * i east of vehicle 0's (PX4 SITL's home by default).
    const homes = sim.vehicles.map((_, i) => nedToGeo(PX4_SITL_HOME, { n: 0, e: options.homeSpacingM * i, d: 0 }));
    return new LockstepRig(sim, sim.fleet, options.ioTurns ?? 3, homes);
  }

  /** Build and start the onboard runtime for vehicle i on the rig's clock. */
  async addRuntime(i: number, options: LockstepRuntimeOptions): Promise<OnboardRuntime> {
    const v = this.sim.vehicles[i];
    const runtime = await OnboardRuntime.create({
      ...options,
      link: { mavlinkSysid: v.sysid ?? 1, ...options.link, mavlink: v.url },
      clock: this.clock,
    });
    this.runtimes[i] = runtime;
    await runtime.start();
    return runtime;
  }

  /** Simulated seconds. */
  get timeS(): number {
    return this.fleet.timeS;
  }

  /** Called after every step with the fleet's time (truth checks, neighbour feeds). */
  onStep(fn: (timeS: number) => void): void {
    this.afterStep.push(fn);
  }

  private async turns(): Promise<void> {
    for (let k = 0; k < this.ioTurns; k++) await yieldToIo();
  }

  /**
   * Wait for ticks still running (an inference answers on another thread) before time moves on, so the machine's
   * speed never shows in simulated time. Off only for scenarios that hang a tick on purpose.
   */
  awaitTicks = true;

  /** One fleet tick: the vehicles move and talk, the runtimes hear them, their timers run, the vehicles hear back. */
  async step(): Promise<void> {
    this.fleet.stepLockstep(this.fleet.tickS);
    await this.turns();
    this.clock.advanceTo(this.fleet.timeS * 1000);
    if (this.awaitTicks) {
      const deadline = performance.now() + TICK_WAIT_MAX_MS;
      while (this.runtimes.some((r) => r?.driver.inTickNow) && performance.now() < deadline) await yieldToIo();
    }
    await this.turns();
    for (const fn of this.afterStep) fn(this.fleet.timeS);
  }

  /** Step until `predicate` holds (true) or `timeoutS` simulated seconds pass (false). */
  async until(predicate: () => boolean, timeoutS: number): Promise<boolean> {
    const end = this.fleet.timeS + timeoutS;
    while (!predicate()) {
      if (this.fleet.timeS >= end) return false;
      await this.step();
    }
    return true;
  }

  async run(seconds: number): Promise<void> {
    await this.until(() => false, seconds);
  }

  async close(): Promise<void> {
    for (const r of this.runtimes) await r?.stop();
    await this.sim.close();
  }
}
