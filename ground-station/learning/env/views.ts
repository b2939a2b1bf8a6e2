/**
 * Object views of one environment's airspace and neighbours, in the shapes shared/policy's observation builder and
 * the onboard safety filter read. Built from the typed arrays at each reset (and after a restore), then updated in
 * place, so the hot loop allocates nothing for them.
 */
import type { Airspace, NoFlyZone } from '../../../shared/geo/index.js';
import { type EnvState, FENCE_VERTICES, MAX_NEIGHBOURS, MAX_ZONES } from './env-state.js';

/** A mutable NED vector. */
export interface MutableNed {
  n: number;
  e: number;
  d: number;
}

/** A neighbour as both the observation (NeighbourState) and the safety filter (Neighbour) read it. */
export interface NeighbourView {
  readonly id: string;
  readonly positionNedM: MutableNed;
  readonly velocityNedMS: MutableNed;
  readonly ageMs: number;
}

export interface EnvViews {
  airspace: Airspace;
  /** Active neighbours (a prefix of `slots`). */
  neighbours: NeighbourView[];
  readonly slots: NeighbourView[];
}

export function createViews(): EnvViews {
  const slots: NeighbourView[] = [];
  for (let k = 0; k < MAX_NEIGHBOURS; k++) {
    slots.push({ id: `n${k}`, positionNedM: { n: 0, e: 0, d: 0 }, velocityNedMS: { n: 0, e: 0, d: 0 }, ageMs: 0 });
  }
  return { airspace: { geofence: null, noFlyZones: [], altitudeFloorM: 0 }, neighbours: [], slots };
}

/** Rebuild environment i's airspace view (after a new scenario). */
export function refreshAirspace(views: EnvViews, state: EnvState, i: number, altitudeFloorM: number): void {
  const zones: NoFlyZone[] = [];
  for (let z = 0; z < state.zoneCount[i]; z++) {
    const k = MAX_ZONES * i + z;
    zones.push({
      kind: 'cylinder',
      id: `zone${z}`,
      centerNeM: { n: state.zoneNeM[2 * k], e: state.zoneNeM[2 * k + 1] },
      radiusM: state.zoneRadiusM[k],
    });
  }
  const polygonNeM = [];
  for (let v = 0; v < FENCE_VERTICES; v++) {
    const k = FENCE_VERTICES * i + v;
    polygonNeM.push({ n: state.fenceNeM[2 * k], e: state.fenceNeM[2 * k + 1] });
  }
  views.airspace = { geofence: { polygonNeM, ceilingM: state.fenceCeilingM[i] }, noFlyZones: zones, altitudeFloorM };
  refreshNeighbours(views, state, i);
}

/** Copy environment i's neighbour states into the views (every step). */
export function refreshNeighbours(views: EnvViews, state: EnvState, i: number): void {
  const count = state.neighbourCount[i];
  if (views.neighbours.length !== count) views.neighbours = views.slots.slice(0, count);
  for (let k = 0; k < count; k++) {
    const o = 3 * (MAX_NEIGHBOURS * i + k);
    const s = views.slots[k];
    s.positionNedM.n = state.neighbourPosNedM[o];
    s.positionNedM.e = state.neighbourPosNedM[o + 1];
    s.positionNedM.d = state.neighbourPosNedM[o + 2];
    s.velocityNedMS.n = state.neighbourVelNedMS[o];
    s.velocityNedMS.e = state.neighbourVelNedMS[o + 1];
    s.velocityNedMS.d = state.neighbourVelNedMS[o + 2];
  }
}
