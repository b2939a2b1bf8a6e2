/**
 * The deliveries the SITL evaluation flies, drawn by the training environment's own scenario generator (so SITL
 * flies the task the policy was trained on): drop point, cruise altitude, a no-fly zone across or beside the route,
 * a geofence corridor with its ceiling, the altitude floor, and the wind with its turbulence. Crossing drones are
 * left out: the simulated fleet flies each delivery alone.
 */
import type { Airspace } from '../../../shared/geo/index.js';
import { DeliveryEnv } from '../env/delivery-env.js';
import type { EnvConfig } from '../env/env-config.js';

export interface SitlScenario {
  readonly index: number;
  /** Drop point, NE m from the depot (the vehicle's home). */
  readonly dropNeM: readonly [number, number];
  readonly distanceM: number;
  /** Cruise altitude above home, m. */
  readonly cruiseAltM: number;
  readonly airspace: Airspace;
  /** Mean wind (m/s, NED, horizontal) and turbulence intensity (m/s std). */
  readonly wind: { readonly northMS: number; readonly eastMS: number; readonly gustStdMS: number };
}

/** What the SITL scenarios change in the env's distribution: one zone in every delivery that has room, no drones. */
export const SITL_SCENARIO_OVERRIDES = Object.freeze({ zoneMaxCount: 1, zoneProbability: 1, neighbourMaxCount: 0 });

/** `count` deliveries from scenario seed `seed` (the same seed gives the same deliveries). */
export function sitlScenarios(env: EnvConfig, count: number, seed: number): SitlScenario[] {
  const sim = new DeliveryEnv(count, { ...env, ...SITL_SCENARIO_OVERRIDES }, seed, { autoReset: false });
  const s = sim.state;
  const f = sim.fleet;
  const out: SitlScenario[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      index: i,
      dropNeM: [s.dropNeM[2 * i], s.dropNeM[2 * i + 1]],
      distanceM: s.deliveryDistanceM[i],
      cruiseAltM: s.cruiseAltM[i],
      airspace: structuredClone(sim.views(i).airspace),
      wind: { northMS: f.windMeanNedMS[3 * i], eastMS: f.windMeanNedMS[3 * i + 1], gustStdMS: f.gustStdMS[i] },
    });
  }
  return out;
}
