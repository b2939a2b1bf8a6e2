/**
 * Random deliveries: a drop point at a random distance and bearing from the depot (home), a cruise altitude, no-fly
 * zones across or beside the route, a geofence corridor around it, wind and gusts, a battery charge, and drones
 * timed to cross the route while we fly it. Each episode draws from its own stream (seed, environment, episode
 * number), so a scenario does not depend on how any other episode went.
 */
import type { MultirotorFleet } from '../../../shared/dynamics/index.js';
import type { Rng } from '../../../shared/random/index.js';
import type { EnvConfig } from './env-config.js';
import { type EnvState, FENCE_VERTICES, MAX_NEIGHBOURS, MAX_ZONES, timeLimitS } from './env-state.js';

const DEG = Math.PI / 180;
const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

/** Draw a new delivery for environment i and put its vehicle at the depot at cruise altitude. */
export function sampleEpisode(state: EnvState, fleet: MultirotorFleet, i: number, cfg: EnvConfig, rng: Rng): void {
  const distanceM = uniform(rng, cfg.deliveryMinM, cfg.deliveryMaxM);
  const bearing = uniform(rng, -Math.PI, Math.PI);
  const un = Math.cos(bearing);
  const ue = Math.sin(bearing);
  // w: the route's left normal; positions are written as along * u + across * w.
  const wn = -ue;
  const we = un;
  const alt = uniform(rng, cfg.cruiseAltMinM, cfg.cruiseAltMaxM);
  state.dropNeM[2 * i] = distanceM * un;
  state.dropNeM[2 * i + 1] = distanceM * ue;
  state.cruiseAltM[i] = alt;
  state.deliveryDistanceM[i] = distanceM;

  // No-fly zones, clear of the depot and the drop point so every delivery can be flown.
  let zones = 0;
  let widestM = 0;
  for (let z = 0; z < Math.min(cfg.zoneMaxCount, MAX_ZONES); z++) {
    const use = rng.next() < cfg.zoneProbability;
    const radiusM = uniform(rng, cfg.zoneRadiusMinM, cfg.zoneRadiusMaxM);
    const along = uniform(rng, 0.3, 0.7) * distanceM;
    const onPath = rng.next() < cfg.zoneOnPathProbability;
    const side = rng.next() < 0.5 ? -1 : 1;
    const across = onPath ? uniform(rng, -0.6, 0.6) * radiusM : side * uniform(rng, radiusM + 8, radiusM + 50);
    if (!use) continue;
    const keepClearM = radiusM + 12;
    if (Math.hypot(along, across) < keepClearM || Math.hypot(distanceM - along, across) < keepClearM) continue;
    const k = MAX_ZONES * i + zones;
    state.zoneNeM[2 * k] = along * un + across * wn;
    state.zoneNeM[2 * k + 1] = along * ue + across * we;
    state.zoneRadiusM[k] = radiusM;
    widestM = Math.max(widestM, Math.abs(across) + radiusM);
    zones++;
  }
  state.zoneCount[i] = zones;

  // Geofence: a corridor along the route, wide enough to go round its zones with room to spare.
  const endM = uniform(rng, 30, 60);
  const halfWidthM = widestM + uniform(rng, cfg.fenceWidthMinM, cfg.fenceWidthMaxM);
  const corners: [number, number][] = [
    [-endM, -halfWidthM],
    [distanceM + endM, -halfWidthM],
    [distanceM + endM, halfWidthM],
    [-endM, halfWidthM],
  ];
  corners.forEach(([along, across], v) => {
    const k = FENCE_VERTICES * i + v;
    state.fenceNeM[2 * k] = along * un + across * wn;
    state.fenceNeM[2 * k + 1] = along * ue + across * we;
  });
  state.fenceCeilingM[i] = alt + cfg.fenceCeilingAboveCruiseM;

  // Weather, battery, what the vehicle knows.
  const windMS = uniform(rng, 0, cfg.windMaxMS);
  const windDir = uniform(rng, -Math.PI, Math.PI);
  fleet.setWind(i, [windMS * Math.cos(windDir), windMS * Math.sin(windDir), 0], uniform(rng, 0, cfg.gustStdMaxMS));
  state.windEstimate[i] = rng.next() < cfg.windEstimateProbability ? 1 : 0;
  const jitterM = uniform(rng, 0, cfg.startJitterM);
  const jitterDir = uniform(rng, -Math.PI, Math.PI);
  fleet.resetVehicle(i, {
    positionNedM: [jitterM * Math.cos(jitterDir), jitterM * Math.sin(jitterDir), -alt],
    yawRad: uniform(rng, -Math.PI, Math.PI),
    batteryRemaining: uniform(rng, cfg.batteryMin, 1),
  });

  state.handoverLegs[i] =
    (rng.next() < cfg.handoverProbability ? 1 : 0) | (rng.next() < cfg.handoverProbability ? 2 : 0);
  state.prevSetpointNedMS.fill(0, 3 * i, 3 * i + 3);
  state.prevFlownNedMS.fill(0, 3 * i, 3 * i + 3);
  state.leg[i] = 0;
  beginLeg(state, fleet, i, cfg);
  setGoal(state, i, state.dropNeM[2 * i], state.dropNeM[2 * i + 1], -alt);
  const p = fleet.positionNedM;
  state.prevDistanceM[i] = goalDistanceM(state, i, p[3 * i], p[3 * i + 1], p[3 * i + 2], cfg);
  sampleNeighbours(state, i, cfg, rng, 0, 0, state.dropNeM[2 * i], state.dropNeM[2 * i + 1]);

  state.timeS[i] = 0;
  state.timeLimitS[i] = timeLimitS(cfg, distanceM);
  state.episodeReturn[i] = 0;
  state.episodeCost[i] = 0;
  state.episodeTicks[i] = 0;
  state.breachTicks.fill(0, 4 * i, 4 * i + 4);
  state.interventionTicks[i] = 0;
  state.rateLimitTicks[i] = 0;
  state.deliverTimeS[i] = Number.NaN;
}

/**
 * Start leg state.leg[i] the way the onboard mission hands a cruise leg to the policy, when this episode drew it so:
 * after its scripted climb (takeoff, or the climb back from the release hover), handoverBelowM under cruise altitude,
 * still climbing at handoverClimbMS, with that climb the last setpoint the filter's rate limit starts from. The
 * descent, release and climb between the legs are not simulated: the vehicle is put where the climb would end, over
 * the point where it arrived. Otherwise the leg starts from the vehicle's state as it is (hovering at the depot).
 */
export function beginLeg(state: EnvState, fleet: MultirotorFleet, i: number, cfg: EnvConfig): void {
  state.legStart[i] = 1;
  if ((state.handoverLegs[i] & (1 << state.leg[i])) === 0) return;
  const climbMS = cfg.handoverClimbMS;
  fleet.positionNedM[3 * i + 2] = Math.min(0, -(state.cruiseAltM[i] - cfg.handoverBelowM));
  const v = fleet.velocityNedMS;
  const sp = fleet.velocitySetpointNedMS;
  v[3 * i] = 0;
  v[3 * i + 1] = 0;
  v[3 * i + 2] = -climbMS;
  for (const arr of [sp, state.prevFlownNedMS, state.prevSetpointNedMS]) {
    arr[3 * i] = 0;
    arr[3 * i + 1] = 0;
    arr[3 * i + 2] = -climbMS;
  }
}

export function setGoal(state: EnvState, i: number, n: number, e: number, d: number): void {
  state.goalNedM[3 * i] = n;
  state.goalNedM[3 * i + 1] = e;
  state.goalNedM[3 * i + 2] = d;
}

/**
 * The distance the progress reward is paid on, m: vertical error weighted (it is slower to undo: 1.5 m/s down), plus
 * a bowl near the goal, nearGoalShapingM * (1 - exp(-d / nearGoalScaleM)), so the last metres pay more than the
 * first. Progress is the change of this potential, so the shaping does not change which policy is best (Ng et al.
 * 1999); it only makes the approach worth learning before the arrival reward is ever seen.
 */
export function goalDistanceM(state: EnvState, i: number, pn: number, pe: number, pd: number, cfg: EnvConfig): number {
  const g = state.goalNedM;
  const d = Math.hypot(g[3 * i] - pn, g[3 * i + 1] - pe, cfg.verticalDistanceWeight * (g[3 * i + 2] - pd));
  return d + cfg.nearGoalShapingM * -Math.expm1(-d / cfg.nearGoalScaleM);
}

/**
 * Drones that cross the leg from (an, ae) to (bn, be): each reaches a random point of the route about when we should,
 * at our cruise altitude give or take 2 m, from 45-135 degrees off our course, and flies straight on.
 */
export function sampleNeighbours(
  state: EnvState,
  i: number,
  cfg: EnvConfig,
  rng: Rng,
  an: number,
  ae: number,
  bn: number,
  be: number,
): void {
  const legM = Math.hypot(bn - an, be - ae);
  const course = Math.atan2(be - ae, bn - an);
  let count = 0;
  for (let k = 0; k < Math.min(cfg.neighbourMaxCount, MAX_NEIGHBOURS); k++) {
    const use = rng.next() < cfg.neighbourProbability;
    const f = uniform(rng, 0.2, 0.8);
    const meetS = Math.max(2, (f * legM) / cfg.neighbourNominalSpeedMS + uniform(rng, -4, 4));
    const speedMS = uniform(rng, cfg.neighbourSpeedMinMS, cfg.neighbourSpeedMaxMS);
    const heading = course + (rng.next() < 0.5 ? -1 : 1) * uniform(rng, 45, 135) * DEG;
    const altM = state.cruiseAltM[i] + uniform(rng, -2, 2);
    if (!use) continue;
    const vn = speedMS * Math.cos(heading);
    const ve = speedMS * Math.sin(heading);
    const o = 3 * (MAX_NEIGHBOURS * i + count);
    state.neighbourPosNedM[o] = an + f * (bn - an) - vn * meetS;
    state.neighbourPosNedM[o + 1] = ae + f * (be - ae) - ve * meetS;
    state.neighbourPosNedM[o + 2] = -altM;
    state.neighbourVelNedMS[o] = vn;
    state.neighbourVelNedMS[o + 1] = ve;
    state.neighbourVelNedMS[o + 2] = 0;
    count++;
  }
  state.neighbourCount[i] = count;
}
