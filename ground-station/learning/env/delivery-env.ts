/**
 * The vectorised delivery environment: N multirotors (shared/dynamics, the model sitl/ flies) stepped together,
 * each flying its own randomised delivery, observed through shared/policy's buildObservation exactly as the
 * onboard runtime observes a real vehicle. Rewards progress and arrival, charges energy and jerk; the cost signal
 * counts constraint breaches (no-fly zone, geofence, altitude floor, separation) and the ticks where the onboard
 * safety filter's barrier layer would have had to change the policy's setpoint.
 *
 * Step size: the action is held for dtS (default the config's controlDtS) while the dynamics sub-step at 20 ms.
 * Rewards and penalties are rates times dtS, so the same behaviour earns the same return at 10 Hz or 50 Hz.
 */

import { applyBox, type SafetyConfig } from '../../../onboard/safety/index.js';
import { DEFAULT_MULTIROTOR, MultirotorFleet, withParams } from '../../../shared/dynamics/index.js';
import { geofenceMargin } from '../../../shared/geo/index.js';
import {
  ACTION_SIZE,
  actionToVelocityNedMS,
  buildObservation,
  OBSERVATION_SIZE,
  type ObservationInput,
  type VelocityLimits,
  type VelocityNedTuple,
} from '../../../shared/policy/index.js';
import { createRng, type Rng } from '../../../shared/random/index.js';
import { BarrierProbe, envSafetyConfig, widenedProbeConfig } from './barrier-probe.js';
import type { EnvConfig } from './env-config.js';
import { BREACH_KINDS, type BreachKind, EnvState, MAX_NEIGHBOURS, MAX_ZONES, typedArraysOf } from './env-state.js';
import { beginLeg, goalDistanceM, sampleEpisode, sampleNeighbours, setGoal } from './scenario.js';
import { createViews, type EnvViews, type MutableNed, refreshAirspace, refreshNeighbours } from './views.js';

export type EpisodeOutcome = 'delivered' | 'timeout' | 'crash' | 'lost';

export interface EpisodeSummary {
  readonly env: number;
  readonly episode: number;
  readonly outcome: EpisodeOutcome;
  readonly success: boolean;
  readonly returnSum: number;
  /** Sum of the per-tick cost. */
  readonly cost: number;
  readonly ticks: number;
  readonly durationS: number;
  /** Time to reach the drop point, s; null when it was not reached. */
  readonly deliverTimeS: number | null;
  readonly distanceM: number;
  readonly breachTicks: Readonly<Record<BreachKind, number>>;
  /** Ticks with a would-be barrier intervention (probe). */
  readonly interventionTicks: number;
  /** Ticks where the env's box layer rate-limited the policy's setpoint (config rateLimit, no filter). */
  readonly rateLimitTicks: number;
  readonly energyWh: number;
}

/** What a setpoint filter may read of the environment. */
export interface FilterContext {
  readonly env: DeliveryEnv;
  readonly positionNedM: MutableNed;
  readonly velocityNedMS: MutableNed;
  readonly views: EnvViews;
  readonly dtS: number;
}

/**
 * A filter between the policy and the vehicle (evaluation runs the onboard SafetyFilter here). Writes the setpoint to
 * fly into `out`; returns a bit set of the safety layers that intervened (bit k = shared/experience
 * INTERVENTION_LAYERS[k]).
 */
export interface SetpointFilter {
  filter(i: number, proposed: MutableNed, action: ArrayLike<number>, out: MutableNed, ctx: FilterContext): number;
  resetVehicle(i: number): void;
}

export interface DeliveryEnvOptions {
  /** Start a new episode as soon as one ends (training). Off: a finished environment stays inactive (evaluation). */
  readonly autoReset?: boolean;
  readonly setpointFilter?: SetpointFilter | null;
}

/** Episode stream tag for the return leg's neighbours. */
const RETURN_LEG_TAG = 1;

export class DeliveryEnv {
  readonly count: number;
  readonly config: EnvConfig;
  readonly fleet: MultirotorFleet;
  readonly state: EnvState;
  /** Per-step outputs of the last step. */
  readonly rewards: Float32Array;
  readonly costs: Float32Array;
  /** 1 where the episode ended on the last step by its own outcome (arrival, crash, lost). */
  readonly dones: Uint8Array;
  /** 1 where the episode was cut by its time limit on the last step (bootstrap from terminalObs). */
  readonly truncated: Uint8Array;
  /** The final observation of environments that ended on the last step (before their reset). */
  readonly terminalObs: Float32Array;
  /** Breach bits of the last step (bit k = BREACH_KINDS[k]). */
  readonly breachBits: Uint8Array;
  /** Would-be barrier change of the last step, m/s (0: none). */
  readonly interventionMS: Float32Array;
  /** Layers the setpoint filter changed on the last step. */
  readonly filterBits: Uint8Array;
  /** How much (m/s) the env's own box layer (config rateLimit, no filter) changed the policy's setpoint last step. */
  readonly rateLimitMS: Float32Array;
  readonly limits: VelocityLimits;
  readonly #views: EnvViews[];
  readonly #root: Rng;
  readonly #autoReset: boolean;
  readonly #filter: SetpointFilter | null;
  readonly #probe: BarrierProbe;
  readonly #safety: SafetyConfig;
  #finished: EpisodeSummary[] = [];
  // Scratch, reused every call.
  readonly #setpoint: VelocityNedTuple = [0, 0, 0];
  readonly #proposed: MutableNed = { n: 0, e: 0, d: 0 };
  readonly #flown: MutableNed = { n: 0, e: 0, d: 0 };
  readonly #pos: MutableNed = { n: 0, e: 0, d: 0 };
  readonly #vel: MutableNed = { n: 0, e: 0, d: 0 };
  readonly #goal: MutableNed = { n: 0, e: 0, d: 0 };
  readonly #wind: MutableNed = { n: 0, e: 0, d: 0 };
  readonly #input: { -readonly [K in keyof ObservationInput]: ObservationInput[K] };
  readonly #action = new Float32Array(ACTION_SIZE);

  constructor(count: number, config: EnvConfig, seed: number, options: DeliveryEnvOptions = {}) {
    this.count = count;
    this.config = config;
    this.limits = {
      maxHorizontalMS: config.maxHorizontalSpeedMS,
      maxUpMS: config.maxUpMS,
      maxDownMS: config.maxDownMS,
    };
    // PX4's own limits match the action scales, as the onboard runtime sets them.
    const params = withParams({
      ...DEFAULT_MULTIROTOR,
      maxHorizontalSpeedMS: config.maxHorizontalSpeedMS,
      maxClimbSpeedMS: config.maxUpMS,
      maxDescentSpeedMS: config.maxDownMS,
    });
    const root = createRng(seed);
    this.fleet = new MultirotorFleet(count, params, root.fork(0x71ee7).next() * 2 ** 32);
    this.#root = root.fork(0x5ce7a);
    this.state = new EnvState(count);
    this.rewards = new Float32Array(count);
    this.costs = new Float32Array(count);
    this.dones = new Uint8Array(count);
    this.truncated = new Uint8Array(count);
    this.terminalObs = new Float32Array(count * OBSERVATION_SIZE);
    this.breachBits = new Uint8Array(count);
    this.interventionMS = new Float32Array(count);
    this.filterBits = new Uint8Array(count);
    this.rateLimitMS = new Float32Array(count);
    this.#autoReset = options.autoReset ?? true;
    this.#filter = options.setpointFilter ?? null;
    this.#safety = envSafetyConfig(config);
    this.#probe = new BarrierProbe(widenedProbeConfig(this.#safety, config.probeExtraMarginM));
    this.#views = Array.from({ length: count }, createViews);
    this.#input = {
      positionNedM: this.#pos,
      velocityNedMS: this.#vel,
      rollRad: 0,
      pitchRad: 0,
      yawRad: 0,
      goalNedM: this.#goal,
      altitudeAboveGroundM: 0,
      windEstimateNedMS: null,
      airspace: this.#views[0].airspace,
      neighbours: [],
      batteryRemainingFraction: 1,
    };
    for (let i = 0; i < count; i++) this.#newEpisode(i);
  }

  /** The scenario stream of environment i's current episode. */
  #episodeRng(i: number): Rng {
    return this.#root.fork(i).fork(this.state.episodeIndex[i]);
  }

  #newEpisode(i: number): void {
    sampleEpisode(this.state, this.fleet, i, this.config, this.#episodeRng(i));
    refreshAirspace(this.#views[i], this.state, i, this.config.altitudeFloorM);
    this.#filter?.resetVehicle(i);
  }

  /** Episodes that ended since the last call. */
  takeFinished(): EpisodeSummary[] {
    const out = this.#finished;
    this.#finished = [];
    return out;
  }

  /** 1 where the next step is the first of a leg. */
  get legStart(): Uint8Array {
    return this.state.legStart;
  }

  /** Environments still flying (all, with auto-reset). */
  get activeCount(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.state.active[i];
    return n;
  }

  views(i: number): EnvViews {
    return this.#views[i];
  }

  #loadVehicle(i: number): void {
    const p = this.fleet.positionNedM;
    const v = this.fleet.velocityNedMS;
    this.#pos.n = p[3 * i];
    this.#pos.e = p[3 * i + 1];
    this.#pos.d = p[3 * i + 2];
    this.#vel.n = v[3 * i];
    this.#vel.e = v[3 * i + 1];
    this.#vel.d = v[3 * i + 2];
  }

  /** Write environment i's observation at out[offset..]; false when a feature is not finite. */
  observeOne(i: number, out: Float32Array, offset: number): boolean {
    const f = this.fleet;
    const s = this.state;
    this.#loadVehicle(i);
    const input = this.#input;
    input.rollRad = f.rollRad[i];
    input.pitchRad = f.pitchRad[i];
    input.yawRad = f.yawRad[i];
    this.#goal.n = s.goalNedM[3 * i];
    this.#goal.e = s.goalNedM[3 * i + 1];
    this.#goal.d = s.goalNedM[3 * i + 2];
    input.altitudeAboveGroundM = -this.#pos.d;
    if (s.windEstimate[i] === 1) {
      this.#wind.n = f.windMeanNedMS[3 * i];
      this.#wind.e = f.windMeanNedMS[3 * i + 1];
      input.windEstimateNedMS = this.#wind;
    } else {
      input.windEstimateNedMS = null;
    }
    const views = this.#views[i];
    input.airspace = views.airspace;
    input.neighbours = views.neighbours;
    input.batteryRemainingFraction = f.batteryRemaining[i];
    return buildObservation(input, out, offset);
  }

  /** Every environment's observation, OBSERVATION_SIZE each, into `out`. */
  observe(out: Float32Array): void {
    for (let i = 0; i < this.count; i++) this.observeOne(i, out, i * OBSERVATION_SIZE);
  }

  /**
   * Apply `actions` (ACTION_SIZE per environment, clipped to [-1, 1]), advance dtS, and fill rewards, costs, dones,
   * truncated and terminalObs. Ended episodes restart at once with auto-reset; their summaries wait in takeFinished().
   */
  step(actions: ArrayLike<number>, dtS: number = this.config.controlDtS): void {
    const cfg = this.config;
    const f = this.fleet;
    const s = this.state;
    const sp = f.velocitySetpointNedMS;
    for (let i = 0; i < this.count; i++) {
      this.dones[i] = 0;
      this.truncated[i] = 0;
      this.rewards[i] = 0;
      this.costs[i] = 0;
      this.breachBits[i] = 0;
      this.interventionMS[i] = 0;
      this.rateLimitMS[i] = 0;
      this.filterBits[i] = 0;
      if (s.active[i] === 0) {
        sp[3 * i] = 0;
        sp[3 * i + 1] = 0;
        sp[3 * i + 2] = 0;
        continue;
      }
      for (let k = 0; k < ACTION_SIZE; k++) this.#action[k] = actions[i * ACTION_SIZE + k];
      actionToVelocityNedMS(this.#action, this.limits, this.#setpoint);
      const proposed = this.#proposed;
      proposed.n = this.#setpoint[0];
      proposed.e = this.#setpoint[1];
      proposed.d = this.#setpoint[2];
      const views = this.#views[i];
      this.#loadVehicle(i);
      let flown: MutableNed = proposed;
      const pf = s.prevFlownNedMS;
      if (this.#filter) {
        flown = this.#flown;
        const ctx = { env: this, positionNedM: this.#pos, velocityNedMS: this.#vel, views, dtS };
        this.filterBits[i] = this.#filter.filter(i, proposed, this.#action, flown, ctx);
      } else if (cfg.rateLimit) {
        // The onboard box layer itself, from the setpoint flown last step (the mission's climb at a handover).
        const previous = { n: pf[3 * i], e: pf[3 * i + 1], d: pf[3 * i + 2] };
        const boxed = applyBox(proposed, previous, dtS, this.#safety, true).velocityNedMS;
        const clippedMS = Math.hypot(boxed.n - proposed.n, boxed.e - proposed.e, boxed.d - proposed.d);
        if (clippedMS > 0) {
          this.rateLimitMS[i] = clippedMS;
          s.rateLimitTicks[i]++;
        }
        flown = this.#flown;
        flown.n = boxed.n;
        flown.e = boxed.e;
        flown.d = boxed.d;
      }
      if (cfg.barrierProbe) {
        // What the barrier layer would do to its input: the policy's setpoint after the box layer, as onboard; the
        // raw setpoint when a filter flies (its would-be interventions on the raw policy are what evaluation reports).
        const probed = this.#filter ? proposed : flown;
        this.interventionMS[i] = this.#probe.interventionMS(
          this.#pos,
          this.#vel,
          probed,
          views.airspace,
          views.neighbours,
        );
      }
      pf[3 * i] = flown.n;
      pf[3 * i + 1] = flown.e;
      pf[3 * i + 2] = flown.d;
      s.legStart[i] = 0;
      sp[3 * i] = flown.n;
      sp[3 * i + 1] = flown.e;
      sp[3 * i + 2] = flown.d;
      // Jerk of the policy's own setpoint: the integral of |dv/dt|^2, the same at any step for a smooth policy.
      const ps = s.prevSetpointNedMS;
      const dn = proposed.n - ps[3 * i];
      const de = proposed.e - ps[3 * i + 1];
      const dd = proposed.d - ps[3 * i + 2];
      this.rewards[i] =
        (s.episodeTicks[i] === 0 ? 0 : (-cfg.jerkPenalty * (dn * dn + de * de + dd * dd)) / dtS) -
        cfg.rateLimitPenalty * this.rateLimitMS[i];
      ps[3 * i] = proposed.n;
      ps[3 * i + 1] = proposed.e;
      ps[3 * i + 2] = proposed.d;
    }
    f.step(dtS);
    for (let i = 0; i < this.count; i++) {
      if (s.active[i] === 1) this.#afterStep(i, dtS);
    }
  }

  #afterStep(i: number, dtS: number): void {
    const cfg = this.config;
    const f = this.fleet;
    const s = this.state;
    const views = this.#views[i];
    // Neighbours fly straight on.
    const nb = s.neighbourPosNedM;
    const nv = s.neighbourVelNedMS;
    for (let k = 0; k < s.neighbourCount[i]; k++) {
      const o = 3 * (MAX_NEIGHBOURS * i + k);
      nb[o] += nv[o] * dtS;
      nb[o + 1] += nv[o + 1] * dtS;
      nb[o + 2] += nv[o + 2] * dtS;
    }
    refreshNeighbours(views, s, i);
    s.timeS[i] += dtS;
    s.episodeTicks[i]++;
    this.#loadVehicle(i);
    const p = this.#pos;
    const v = this.#vel;
    const altM = -p.d;

    let reward = this.rewards[i];
    const distM = goalDistanceM(s, i, p.n, p.e, p.d, cfg);
    reward += cfg.progressRewardPerM * (s.prevDistanceM[i] - distM);
    s.prevDistanceM[i] = distM;
    reward -= cfg.timePenaltyPerS * dtS;
    reward -= (cfg.energyPenaltyPerS * f.batteryPowerW[i] * dtS) / f.params.hoverPowerW;

    // Breaches, from the true geometry.
    let bits = 0;
    for (let z = 0; z < s.zoneCount[i]; z++) {
      const k = MAX_ZONES * i + z;
      if (Math.hypot(p.n - s.zoneNeM[2 * k], p.e - s.zoneNeM[2 * k + 1]) < s.zoneRadiusM[k]) bits |= 1;
    }
    const fence = views.airspace.geofence;
    const marginM = fence ? geofenceMargin(p, fence).marginM : Number.POSITIVE_INFINITY;
    if (marginM < 0 || altM > s.fenceCeilingM[i]) bits |= 2;
    if (altM < cfg.altitudeFloorM) bits |= 4;
    for (const n of views.neighbours) {
      const q = n.positionNedM;
      if (Math.hypot(q.n - p.n, q.e - p.e, q.d - p.d) < cfg.separationM) bits |= 8;
    }
    this.breachBits[i] = bits;
    const intervened = this.interventionMS[i] > 0;
    const cost = (bits !== 0 ? cfg.breachCost : 0) + (intervened ? cfg.interventionCost : 0);
    for (let k = 0; k < BREACH_KINDS.length; k++) if (bits & (1 << k)) s.breachTicks[4 * i + k]++;
    if (intervened) s.interventionTicks[i]++;

    // Arrival at the leg's goal: inside the radius, at altitude, and slow.
    let outcome: EpisodeOutcome | null = null;
    const g = s.goalNedM;
    const hDistM = Math.hypot(g[3 * i] - p.n, g[3 * i + 1] - p.e);
    const speedMS = Math.hypot(v.n, v.e, v.d);
    if (
      hDistM <= cfg.arrivalRadiusM &&
      Math.abs(g[3 * i + 2] - p.d) <= cfg.arrivalVerticalM &&
      speedMS <= cfg.arrivalSpeedMS
    ) {
      reward += cfg.arrivalReward;
      if (s.leg[i] === 0) s.deliverTimeS[i] = s.timeS[i];
      if (s.leg[i] + 1 < cfg.legs) {
        s.leg[i]++;
        beginLeg(s, f, i, cfg);
        this.#loadVehicle(i);
        setGoal(s, i, 0, 0, -s.cruiseAltM[i]);
        s.prevDistanceM[i] = goalDistanceM(s, i, p.n, p.e, p.d, cfg);
        sampleNeighbours(s, i, cfg, this.#episodeRng(i).fork(RETURN_LEG_TAG), p.n, p.e, 0, 0);
        refreshNeighbours(views, s, i);
      } else {
        outcome = 'delivered';
      }
    }
    if (outcome === null) {
      if (f.groundContact[i] === 1 || f.hardImpactCount[i] > 0 || f.batteryRemaining[i] <= 0) outcome = 'crash';
      else if (marginM < -cfg.lostDistanceM) outcome = 'lost';
      else if (s.timeS[i] >= s.timeLimitS[i]) outcome = 'timeout';
    }
    if (outcome === 'crash' || outcome === 'lost') reward -= cfg.crashPenalty;

    this.rewards[i] = reward;
    this.costs[i] = cost;
    s.episodeReturn[i] += reward;
    s.episodeCost[i] += cost;
    if (outcome !== null) this.#endEpisode(i, outcome);
  }

  #endEpisode(i: number, outcome: EpisodeOutcome): void {
    const s = this.state;
    if (outcome === 'timeout') this.truncated[i] = 1;
    else this.dones[i] = 1;
    this.observeOne(i, this.terminalObs, i * OBSERVATION_SIZE);
    const deliver = s.deliverTimeS[i];
    this.#finished.push({
      env: i,
      episode: s.episodeIndex[i],
      outcome,
      success: outcome === 'delivered',
      returnSum: s.episodeReturn[i],
      cost: s.episodeCost[i],
      ticks: s.episodeTicks[i],
      durationS: s.timeS[i],
      deliverTimeS: Number.isNaN(deliver) ? null : deliver,
      distanceM: s.deliveryDistanceM[i],
      breachTicks: {
        zone: s.breachTicks[4 * i],
        fence: s.breachTicks[4 * i + 1],
        floor: s.breachTicks[4 * i + 2],
        separation: s.breachTicks[4 * i + 3],
      },
      interventionTicks: s.interventionTicks[i],
      rateLimitTicks: s.rateLimitTicks[i],
      energyWh: this.fleet.energyUsedWh[i],
    });
    if (this.#autoReset) {
      s.episodeIndex[i]++;
      this.#newEpisode(i);
    } else {
      s.active[i] = 0;
    }
  }

  /** Every typed array of the environment and its fleet, for a checkpoint. */
  saveState(): { env: Record<string, ArrayBufferView>; fleet: Record<string, ArrayBufferView> } {
    return { env: typedArraysOf(this.state), fleet: typedArraysOf(this.fleet) };
  }

  /** Restore what saveState returned (same count and config). */
  loadState(saved: { env: Record<string, ArrayBufferView>; fleet: Record<string, ArrayBufferView> }): void {
    copyInto(typedArraysOf(this.state), saved.env, 'env');
    copyInto(typedArraysOf(this.fleet), saved.fleet, 'fleet');
    for (let i = 0; i < this.count; i++) refreshAirspace(this.#views[i], this.state, i, this.config.altitudeFloorM);
  }
}

function copyInto(
  target: Record<string, Float64Array | Uint8Array | Uint32Array>,
  source: Record<string, ArrayBufferView>,
  what: string,
): void {
  for (const [key, arr] of Object.entries(target)) {
    const src = source[key];
    if (!src || src.constructor !== arr.constructor || (src as typeof arr).length !== arr.length) {
      throw new RangeError(`${what}.${key}: saved state does not match this environment`);
    }
    arr.set(src as typeof arr);
  }
}
