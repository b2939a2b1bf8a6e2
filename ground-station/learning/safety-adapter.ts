/**
 * The onboard safety filter between the policy and each simulated vehicle, as the onboard runtime runs it: one
 * SafetyFilter per vehicle (its rate limit and monitor keep state), cruise phase, a healthy link, and the shield's
 * score when a shield runs. Reports which layers intervened, as shared/experience bits.
 */

import { type SafetyConfig, SafetyFilter, type SafetyInput } from '../../onboard/safety/index.js';
import { INTERVENTION_LAYERS } from '../../shared/experience/index.js';
import type { FilterContext, SetpointFilter } from './env/delivery-env.js';
import type { MutableNed } from './env/views.js';

export class OnboardSafetyFilter implements SetpointFilter {
  readonly #filters: SafetyFilter[];
  /** Shield scores for this step, set by the caller before env.step (NaN: no shield). */
  readonly shieldScores: Float64Array;

  constructor(count: number, config: SafetyConfig) {
    this.#filters = Array.from({ length: count }, () => new SafetyFilter(config));
    this.shieldScores = new Float64Array(count).fill(Number.NaN);
  }

  resetVehicle(i: number): void {
    this.#filters[i].reset();
  }

  filter(i: number, proposed: MutableNed, action: ArrayLike<number>, out: MutableNed, ctx: FilterContext): number {
    const f = ctx.env.fleet;
    const p = ctx.positionNedM;
    const score = this.shieldScores[i];
    const input: SafetyInput = {
      timeUs: Math.round(ctx.env.state.timeS[i] * 1e6),
      vehicle: {
        positionNedM: { n: p.n, e: p.e, d: p.d },
        velocityNedMS: { ...ctx.velocityNedMS },
        altitudeAboveHomeM: -p.d,
        armed: true,
        landed: false,
        batteryRemaining01: f.batteryRemaining[i],
        batteryVoltageV: f.batteryVoltageV[i],
        gpsFixOk: true,
        positionAgeMs: 0,
        statusAgeMs: 0,
      },
      policy: { action: Array.from(action), velocityNedMS: { n: proposed.n, e: proposed.e, d: proposed.d } },
      airspace: ctx.views.airspace,
      neighbours: ctx.views.neighbours,
      shield: Number.isNaN(score) ? null : { score },
      link: { autopilotHeartbeatAgeMs: 0, groundLinkUp: true },
      emergencyStop: false,
      phase: 'cruise',
    };
    const decision = this.#filters[i].update(input);
    out.n = decision.velocityNedMS.n;
    out.e = decision.velocityNedMS.e;
    out.d = decision.velocityNedMS.d;
    let bits = 0;
    INTERVENTION_LAYERS.forEach((layer, k) => {
      if (decision.layers[layer]) bits |= 1 << k;
    });
    return bits;
  }
}
