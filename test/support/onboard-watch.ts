/**
 * The simulated vehicle's TRUE state over a scenario, for assertions that must not trust the runtime's own view:
 * fleet.status(i) and the vehicle's setpoint counters recorded after every simulator tick (10 simulated ms), with
 * queries on simulated time. Recording rides on the fleet's own stepping (realtime runner or lockstep alike), so a
 * loaded machine changes how fast the samples come, not which simulated instants they describe.
 */
import type { SitlFleet } from '../../sitl/index.js';

type StepFn = SitlFleet['stepLockstep'];

/**
 * Watchers per fleet, and the fleet's own stepLockstep. The fleet has no step hook, so the instance's method is
 * wrapped (test support only) while any watcher records, and put back when the last one stops.
 */
const watching = new WeakMap<SitlFleet, { original: StepFn; watchers: Set<VehicleWatch> }>();

function attach(fleet: SitlFleet, watch: VehicleWatch): void {
  let entry = watching.get(fleet);
  if (!entry) {
    const original = fleet.stepLockstep;
    const created = { original, watchers: new Set<VehicleWatch>() };
    fleet.stepLockstep = (dtS: number): void => {
      // Tick by tick, so each tick's state is seen (the runner steps many ticks per turn).
      const end = fleet.timeS + dtS;
      while (fleet.timeS < end - 1e-9) {
        original.call(fleet, Math.min(fleet.tickS, end - fleet.timeS));
        for (const w of created.watchers) w.sample();
      }
    };
    watching.set(fleet, created);
    entry = created;
  }
  entry.watchers.add(watch);
}

function detach(fleet: SitlFleet, watch: VehicleWatch): void {
  const entry = watching.get(fleet);
  if (!entry) return;
  entry.watchers.delete(watch);
  if (entry.watchers.size === 0) {
    fleet.stepLockstep = entry.original;
    watching.delete(fleet);
  }
}

export interface VehicleSample {
  /** Simulated seconds. */
  readonly timeS: number;
  /** PX4 mode as HEARTBEAT shows it. */
  readonly mode: string;
  readonly armed: boolean;
  readonly landed: boolean;
  /** The simulated commander's failsafe action ('none' normally). */
  readonly failsafe: string;
  readonly positionNedM: readonly [number, number, number];
  readonly velocityNedMS: readonly [number, number, number];
  /** SET_POSITION_TARGET_LOCAL_NED accepted by the vehicle so far (its counter). */
  readonly setpoints: number;
  /** Setpoints the vehicle refused as malformed (NaN everywhere, bad frame) so far. */
  readonly rejectedSetpoints: number;
}

export const horizontalSpeedMS = (s: VehicleSample): number => Math.hypot(s.velocityNedMS[0], s.velocityNedMS[1]);
export const altitudeM = (s: VehicleSample): number => -s.positionNedM[2];

export class VehicleWatch {
  readonly samples: VehicleSample[] = [];
  private started = false;
  private readonly waiters: { predicate: (s: VehicleSample) => boolean; resolve: (s: VehicleSample) => void }[] = [];

  constructor(
    private readonly fleet: SitlFleet,
    private readonly index: number,
  ) {}

  /** Record from now on, after every simulator tick. */
  start(): this {
    if (!this.started) {
      this.started = true;
      this.sample();
      attach(this.fleet, this);
    }
    return this;
  }

  stop(): void {
    if (this.started) detach(this.fleet, this);
    this.started = false;
  }

  /** Record now (called after every tick once started; once per simulated instant). */
  sample(): VehicleSample {
    const last = this.samples.at(-1);
    if (last && last.timeS === this.fleet.timeS) return last;
    const st = this.fleet.status(this.index);
    const c = this.fleet.counters(this.index);
    const s: VehicleSample = {
      timeS: st.timeS,
      mode: st.mode,
      armed: st.armed,
      landed: st.landed,
      failsafe: st.failsafe,
      positionNedM: st.positionNedM,
      velocityNedMS: st.velocityNedMS,
      setpoints: c.offboardSetpoints,
      rejectedSetpoints: c.offboardRejected,
    };
    this.samples.push(s);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].predicate(s)) {
        this.waiters[i].resolve(s);
        this.waiters.splice(i, 1);
      }
    }
    return s;
  }

  latest(): VehicleSample {
    return this.samples.at(-1) ?? this.sample();
  }

  /**
   * The first sample from now on that satisfies `predicate`; rejects after `wallTimeoutMs` with `what` and the last
   * sample in the message (a generous wall-clock guard only; assertions are made on simulated time).
   */
  until(predicate: (s: VehicleSample) => boolean, wallTimeoutMs: number, what: string): Promise<VehicleSample> {
    const now = this.latest();
    if (predicate(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timed out waiting for ${what}; last sample ${JSON.stringify(this.latest())}`));
      }, wallTimeoutMs);
      const done = (s: VehicleSample): void => {
        clearTimeout(timer);
        resolve(s);
      };
      this.waiters.push({ predicate, resolve: done });
    });
  }

  /** Samples with fromS <= timeS <= toS. */
  between(fromS: number, toS = Number.POSITIVE_INFINITY): VehicleSample[] {
    return this.samples.filter((s) => s.timeS >= fromS && s.timeS <= toS);
  }

  /** The first recorded sample at or after `fromS` that satisfies `predicate`, or undefined. */
  first(predicate: (s: VehicleSample) => boolean, fromS = 0): VehicleSample | undefined {
    return this.samples.find((s) => s.timeS >= fromS && predicate(s));
  }

  /** The last recorded sample strictly before `timeS` (the state just before an event), or undefined. */
  lastBefore(timeS: number): VehicleSample | undefined {
    let found: VehicleSample | undefined;
    for (const s of this.samples) {
      if (s.timeS >= timeS) break;
      found = s;
    }
    return found;
  }

  /** Simulated time of the last sample at which the setpoint counter had grown (the last setpoint received). */
  lastSetpointAtS(beforeS = Number.POSITIVE_INFINITY): number {
    let at = Number.NaN;
    for (let i = 1; i < this.samples.length && this.samples[i].timeS <= beforeS; i++) {
      if (this.samples[i].setpoints > this.samples[i - 1].setpoints) at = this.samples[i].timeS;
    }
    return at;
  }

  /** The modes the vehicle went through, in order, without repeats. */
  modeSequence(fromS = 0): string[] {
    const out: string[] = [];
    for (const s of this.samples) if (s.timeS >= fromS && out.at(-1) !== s.mode) out.push(s.mode);
    return out;
  }
}
