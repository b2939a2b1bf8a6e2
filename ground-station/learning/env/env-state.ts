/**
 * Everything the vectorised environment knows besides the vehicles' own dynamics, held in typed arrays indexed by
 * environment, so a checkpoint can save and restore it exactly (the fleet's arrays go with it).
 */
import type { EnvConfig } from './env-config.js';

/** Slots per environment (the config's maxima). */
export const MAX_ZONES = 4;
export const MAX_NEIGHBOURS = 4;
export const FENCE_VERTICES = 4;

/** Breach kinds counted per tick, in bit order. */
export const BREACH_KINDS = ['zone', 'fence', 'floor', 'separation'] as const;
export type BreachKind = (typeof BREACH_KINDS)[number];

export class EnvState {
  readonly count: number;
  /** Drop point, NE m from the depot (home). */
  readonly dropNeM: Float64Array;
  /** Cruise altitude above home, m. */
  readonly cruiseAltM: Float64Array;
  /** Current leg: 0 out to the drop point, 1 back to the depot. */
  readonly leg: Uint8Array;
  /** The current leg's goal, NED m. */
  readonly goalNedM: Float64Array;
  readonly zoneCount: Uint8Array;
  /** Zone centres, NE m, MAX_ZONES per environment. */
  readonly zoneNeM: Float64Array;
  readonly zoneRadiusM: Float64Array;
  /** Geofence rectangle, FENCE_VERTICES NE m per environment, in order. */
  readonly fenceNeM: Float64Array;
  readonly fenceCeilingM: Float64Array;
  readonly neighbourCount: Uint8Array;
  /** Crossing drones, NED m and m/s, MAX_NEIGHBOURS per environment. */
  readonly neighbourPosNedM: Float64Array;
  readonly neighbourVelNedMS: Float64Array;
  /** 1 when this episode's observation carries a wind estimate. */
  readonly windEstimate: Uint8Array;
  /** Time since the episode started, s. */
  readonly timeS: Float64Array;
  readonly timeLimitS: Float64Array;
  /** Distance to the goal at the last step, m (progress reward). */
  readonly prevDistanceM: Float64Array;
  /** Setpoint of the last step, NED m/s (jerk penalty). */
  readonly prevSetpointNedMS: Float64Array;
  /** Setpoint flown on the last step (after the box layer), NED m/s: where the rate limit starts from. */
  readonly prevFlownNedMS: Float64Array;
  /** 1 where the next step is the first of a leg (the smoothness loss compares it with prevFlownNedMS). */
  readonly legStart: Uint8Array;
  /** Bit k set: leg k starts as the mission hands it over (climbing), else hovering. */
  readonly handoverLegs: Uint8Array;
  /** Episodes started by each environment (its scenario stream is forked by this number). */
  readonly episodeIndex: Uint32Array;
  /** 0 once an environment without auto-reset has finished its episode. */
  readonly active: Uint8Array;
  // Episode accumulators.
  readonly episodeReturn: Float64Array;
  readonly episodeCost: Float64Array;
  readonly episodeTicks: Uint32Array;
  /** Ticks with each breach kind, BREACH_KINDS.length per environment. */
  readonly breachTicks: Uint32Array;
  readonly interventionTicks: Uint32Array;
  /** Ticks where the box layer's rate limit changed the policy's setpoint. */
  readonly rateLimitTicks: Uint32Array;
  /** Time the drop point was reached, s; NaN before. */
  readonly deliverTimeS: Float64Array;
  readonly deliveryDistanceM: Float64Array;

  constructor(count: number) {
    this.count = count;
    this.dropNeM = new Float64Array(2 * count);
    this.cruiseAltM = new Float64Array(count);
    this.leg = new Uint8Array(count);
    this.goalNedM = new Float64Array(3 * count);
    this.zoneCount = new Uint8Array(count);
    this.zoneNeM = new Float64Array(2 * MAX_ZONES * count);
    this.zoneRadiusM = new Float64Array(MAX_ZONES * count);
    this.fenceNeM = new Float64Array(2 * FENCE_VERTICES * count);
    this.fenceCeilingM = new Float64Array(count);
    this.neighbourCount = new Uint8Array(count);
    this.neighbourPosNedM = new Float64Array(3 * MAX_NEIGHBOURS * count);
    this.neighbourVelNedMS = new Float64Array(3 * MAX_NEIGHBOURS * count);
    this.windEstimate = new Uint8Array(count);
    this.timeS = new Float64Array(count);
    this.timeLimitS = new Float64Array(count);
    this.prevDistanceM = new Float64Array(count);
    this.prevSetpointNedMS = new Float64Array(3 * count);
    this.prevFlownNedMS = new Float64Array(3 * count);
    this.handoverLegs = new Uint8Array(count);
    this.legStart = new Uint8Array(count);
    this.episodeIndex = new Uint32Array(count);
    this.active = new Uint8Array(count).fill(1);
    this.episodeReturn = new Float64Array(count);
    this.episodeCost = new Float64Array(count);
    this.episodeTicks = new Uint32Array(count);
    this.breachTicks = new Uint32Array(BREACH_KINDS.length * count);
    this.interventionTicks = new Uint32Array(count);
    this.rateLimitTicks = new Uint32Array(count);
    this.deliverTimeS = new Float64Array(count);
    this.deliveryDistanceM = new Float64Array(count);
  }
}

/** The time limit of an episode over a delivery of `distanceM`. */
export function timeLimitS(cfg: EnvConfig, distanceM: number): number {
  return (cfg.legs * distanceM) / cfg.minAverageSpeedMS + cfg.timeLimitSlackS;
}

/** Every typed array of an object, by field name (for checkpoints). */
export function typedArraysOf(obj: object): Record<string, Float64Array | Uint8Array | Uint32Array> {
  const out: Record<string, Float64Array | Uint8Array | Uint32Array> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value instanceof Float64Array || value instanceof Uint8Array || value instanceof Uint32Array) out[key] = value;
  }
  return out;
}
