/**
 * Breaches judged on the vehicle's TRUE simulated position (not what the onboard runtime believes), with shared/geo's
 * own predicates: inside a no-fly zone (within its altitude band), outside the geofence polygon or above its
 * ceiling, and below the altitude floor while on a cruise leg (takeoff and landing cross it by design).
 */
import {
  type Airspace,
  geofenceMargin,
  type Ned,
  zoneClearance,
  zoneCoversAltitude,
} from '../../../shared/geo/index.js';
import type { BreachKind } from '../env/env-state.js';

export type BreachTicks = Record<BreachKind, number>;

export const noBreachTicks = (): BreachTicks => ({ zone: 0, fence: 0, floor: 0, separation: 0 });

/** The breach kinds at true position `p` (NED m from home). */
export function breachesAt(p: Ned, airspace: Airspace, cruising: boolean): BreachKind[] {
  const out: BreachKind[] = [];
  const altitudeM = -p.d;
  for (const zone of airspace.noFlyZones) {
    if (zoneCoversAltitude(zone, altitudeM) && zoneClearance(p, zone).clearanceM < 0) {
      out.push('zone');
      break;
    }
  }
  const fence = airspace.geofence;
  if (fence && (geofenceMargin(p, fence).marginM < 0 || altitudeM > fence.ceilingM)) out.push('fence');
  if (cruising && altitudeM < airspace.altitudeFloorM) out.push('floor');
  return out;
}

/** Horizontal clearance of true position `p` from the nearest no-fly zone and inside the geofence, m. */
export function clearancesAt(p: Ned, airspace: Airspace): { zoneM: number; fenceM: number } {
  let zoneM = Number.POSITIVE_INFINITY;
  for (const zone of airspace.noFlyZones) zoneM = Math.min(zoneM, zoneClearance(p, zone).clearanceM);
  const fenceM = airspace.geofence ? geofenceMargin(p, airspace.geofence).marginM : Number.POSITIVE_INFINITY;
  return { zoneM, fenceM };
}
