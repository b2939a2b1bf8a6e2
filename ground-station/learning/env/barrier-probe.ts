/**
 * The onboard safety filter's barrier layer (control barrier functions for the geofence, ceiling, no-fly zones,
 * altitude floor and separation) run on a proposed setpoint, to count the interventions it would make. Stateless,
 * so thousands of vehicles can share one probe; the stateful SafetyFilter (rate limit, monitor) runs in evaluation.
 */

import {
  barrierConstraints,
  barrierGeometry,
  filterVelocity,
  type Neighbour,
  parseSafetyConfig,
  type SafetyConfig,
} from '../../../onboard/safety/index.js';
import type { Airspace, Ned } from '../../../shared/geo/index.js';
import type { EnvConfig } from './env-config.js';

/** A change smaller than this (m/s) is rounding in the QP, not an intervention. */
const INTERVENTION_MIN_MS = 0.05;

/** The safety configuration the environment's vehicles fly under: the onboard defaults with the env's limits. */
export function envSafetyConfig(cfg: EnvConfig, overrides: Record<string, unknown> = {}): SafetyConfig {
  return parseSafetyConfig({
    maxHorizontalSpeedMS: cfg.maxHorizontalSpeedMS,
    maxAxisSpeedMS: cfg.maxHorizontalSpeedMS,
    maxClimbSpeedMS: cfg.maxUpMS,
    maxDescentSpeedMS: cfg.maxDownMS,
    separationM: cfg.separationM,
    ...overrides,
  });
}

/**
 * The probe's configuration for training: the filter's horizontal margins (zones, fence, separation) widened by
 * `extraM`. The vertical margin stays: the cruise altitude band starts at the floor's margin.
 */
export function widenedProbeConfig(safety: SafetyConfig, extraM: number): SafetyConfig {
  if (extraM <= 0) return safety;
  return parseSafetyConfig({
    ...safety,
    zoneMarginM: safety.zoneMarginM + extraM,
    fenceMarginM: safety.fenceMarginM + extraM,
    separationMarginM: safety.separationMarginM + extraM,
  });
}

export class BarrierProbe {
  readonly config: SafetyConfig;
  readonly #options;

  constructor(config: SafetyConfig) {
    this.config = config;
    this.#options = {
      floorActive: true,
      separationM: config.separationM,
      stateExtrapolationMaxMs: config.stateExtrapolationMaxMs,
      neighbourStaleMs: config.neighbourStaleMs,
    };
  }

  /** How much (m/s) the barrier layer would change `proposed`; 0 when it would let it through. */
  interventionMS(
    positionNedM: Ned,
    velocityNedMS: Ned,
    proposed: Ned,
    airspace: Airspace,
    neighbours: readonly Neighbour[],
  ): number {
    const geometry = barrierGeometry(positionNedM, -positionNedM.d, airspace, neighbours, this.#options);
    const constraints = barrierConstraints(geometry.barriers, velocityNedMS, this.config);
    const r = filterVelocity(proposed, constraints, this.config);
    if (r.status === 'clear') return 0;
    const v = r.velocityNedMS;
    const change = Math.hypot(v.n - proposed.n, v.e - proposed.e, v.d - proposed.d);
    return change >= INTERVENTION_MIN_MS ? change : 0;
  }
}
