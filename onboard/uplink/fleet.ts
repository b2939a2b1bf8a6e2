/**
 * Fleet messages into this drone's frame: traffic -> neighbours (NED from home, stale and own entries dropped) and
 * an airspace given relative to the fleet's origin -> relative to home. Pure.
 */
import type { Result } from '../../shared/errors.js';
import { AIRSPACE_SCHEMA, type Airspace, type GeoPoint, geoToNed, nedToGeo } from '../../shared/geo/index.js';
import type { FleetTraffic } from '../../shared/protocol/index.js';
import type { Neighbour } from '../safety/index.js';

export interface TrafficResult {
  readonly neighbours: Neighbour[];
  readonly droppedStale: number;
}

/**
 * Neighbours from a traffic message: own entry dropped, entries older than `maxAgeMs` dropped, positions projected
 * into the NED frame of `home`. An entry stamped in the future (clocks apart) counts as age 0.
 */
export function trafficToNeighbours(
  traffic: Pick<FleetTraffic, 'drones'>,
  selfId: string,
  home: GeoPoint,
  nowMs: number,
  maxAgeMs: number,
): TrafficResult {
  const neighbours: Neighbour[] = [];
  let droppedStale = 0;
  for (const d of traffic.drones) {
    if (d.id === selfId) continue;
    const ageMs = Math.max(0, nowMs - d.timeMs);
    if (ageMs > maxAgeMs) {
      droppedStale++;
      continue;
    }
    neighbours.push({
      id: d.id,
      positionNedM: geoToNed(home, d.geo),
      velocityNedMS: { n: d.velocityNedMS.n, e: d.velocityNedMS.e, d: d.velocityNedMS.d },
      ageMs,
    });
  }
  return { neighbours, droppedStale };
}

/**
 * Re-express an airspace given relative to `origin` (NE metres, altitudes above the origin) relative to `home`.
 * Altitudes shift by the difference of the two AMSL altitudes; a floor below home becomes 0. Refused (as a value)
 * when the result is not a valid airspace, e.g. a ceiling at or below home.
 */
export function airspaceToHomeFrame(airspace: Airspace, origin: GeoPoint, home: GeoPoint): Result<Airspace, string> {
  const toHome = (p: { n: number; e: number }) => {
    const ned = geoToNed(home, nedToGeo(origin, { n: p.n, e: p.e, d: 0 }));
    return { n: ned.n, e: ned.e };
  };
  const dAltM = origin.altAmslM - home.altAmslM;
  const shift = (alt: number | undefined) => (alt === undefined ? undefined : alt + dAltM);
  const converted = {
    geofence: airspace.geofence
      ? { polygonNeM: airspace.geofence.polygonNeM.map(toHome), ceilingM: airspace.geofence.ceilingM + dAltM }
      : null,
    noFlyZones: airspace.noFlyZones.map((z) => {
      const band = {
        ...(z.floorM !== undefined ? { floorM: shift(z.floorM) } : {}),
        ...(z.topM !== undefined ? { topM: shift(z.topM) } : {}),
      };
      return z.kind === 'cylinder'
        ? { kind: z.kind, id: z.id, centerNeM: toHome(z.centerNeM), radiusM: z.radiusM, ...band }
        : { kind: z.kind, id: z.id, polygonNeM: z.polygonNeM.map(toHome), ...band };
    }),
    altitudeFloorM: Math.max(0, airspace.altitudeFloorM + dAltM),
  };
  const r = AIRSPACE_SCHEMA.safeParse(converted);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, reason: `in the home frame, ${issue.path.join('.') || 'airspace'}: ${issue.message}` };
  }
  return { ok: true, value: Object.freeze(r.data) as Airspace };
}
