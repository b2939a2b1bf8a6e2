/**
 * Judge the airspace on TRUE simulated positions, with shared/geo's own predicates: every fence edge, the ceiling,
 * every no-fly zone (in its altitude band), the cruise altitude floor and the separation between drones. Positions
 * are in one common NED frame (vehicle 0's home); airspace for a drone whose home is elsewhere is shifted with
 * `shiftAirspace`.
 */
import {
  type Airspace,
  geofenceMargin,
  type Ned,
  type NoFlyZone,
  zoneClearance,
  zoneCoversAltitude,
} from '../../shared/geo/index.js';

export type LimitKind = 'fence' | 'ceiling' | 'zone' | 'floor' | 'separation';

export interface Breach {
  readonly kind: LimitKind;
  readonly timeS: number;
  readonly drone: number;
  /** How far past the limit (m). */
  readonly depthM: number;
  readonly detail: string;
}

/** The same airspace seen from a frame whose origin is at `originNedM` of the common frame. */
export function shiftAirspace(airspace: Airspace, originNedM: Ned): Airspace {
  const shift = (p: { n: number; e: number }) => ({ n: p.n - originNedM.n, e: p.e - originNedM.e });
  const zones: NoFlyZone[] = airspace.noFlyZones.map((z) =>
    z.kind === 'cylinder' ? { ...z, centerNeM: shift(z.centerNeM) } : { ...z, polygonNeM: z.polygonNeM.map(shift) },
  );
  return {
    geofence: airspace.geofence
      ? { polygonNeM: airspace.geofence.polygonNeM.map(shift), ceilingM: airspace.geofence.ceilingM }
      : null,
    noFlyZones: zones,
    altitudeFloorM: airspace.altitudeFloorM,
  };
}

export interface DroneTruth {
  /** True position in the common frame (NED m). */
  readonly positionNedM: Ned;
  /** The floor applies (the drone's mission is on a cruise leg). */
  readonly cruising: boolean;
  readonly airborne: boolean;
}

/** Least clearance seen to each limit (m; positive = inside the allowed space). */
export type Clearances = Record<LimitKind, number>;

export class AirspaceTruth {
  readonly breaches: Breach[] = [];
  /** Least clearance over all drones and checks. */
  readonly minClearanceM: Clearances = {
    fence: Number.POSITIVE_INFINITY,
    ceiling: Number.POSITIVE_INFINITY,
    zone: Number.POSITIVE_INFINITY,
    floor: Number.POSITIVE_INFINITY,
    separation: Number.POSITIVE_INFINITY,
  };
  checks = 0;

  constructor(
    /** In the common frame. */
    private readonly airspace: Airspace,
    /** Closer than this (3-D, m) is a separation breach. */
    private readonly separationM: number,
  ) {}

  check(timeS: number, drones: readonly DroneTruth[]): void {
    this.checks++;
    const fence = this.airspace.geofence;
    drones.forEach((d, i) => {
      const p = d.positionNedM;
      const altitudeM = -p.d;
      const ne = { n: p.n, e: p.e };
      if (fence) {
        const margin = geofenceMargin(ne, fence).marginM;
        this.note(
          'fence',
          timeS,
          i,
          margin,
          `fence margin ${margin.toFixed(2)} m at (${p.n.toFixed(1)}, ${p.e.toFixed(1)})`,
        );
        const below = fence.ceilingM - altitudeM;
        this.note('ceiling', timeS, i, below, `altitude ${altitudeM.toFixed(2)} m, ceiling ${fence.ceilingM} m`);
      }
      for (const zone of this.airspace.noFlyZones) {
        const c = zoneClearance(ne, zone).clearanceM;
        // Outside the band a zone is no limit; inside it, the horizontal clearance is the distance to breach.
        const inBand = zoneCoversAltitude(zone, altitudeM);
        const clearance = inBand ? c : Math.max(c, this.bandClearance(zone, altitudeM));
        this.note(
          'zone',
          timeS,
          i,
          clearance,
          `zone ${zone.id} clearance ${c.toFixed(2)} m at ${altitudeM.toFixed(1)} m`,
        );
      }
      if (d.cruising) {
        const above = altitudeM - this.airspace.altitudeFloorM;
        this.note(
          'floor',
          timeS,
          i,
          above,
          `altitude ${altitudeM.toFixed(2)} m, floor ${this.airspace.altitudeFloorM} m`,
        );
      }
    });
    for (let i = 0; i < drones.length; i++) {
      for (let j = i + 1; j < drones.length; j++) {
        if (!drones[i].airborne || !drones[j].airborne) continue;
        const a = drones[i].positionNedM;
        const b = drones[j].positionNedM;
        const dist = Math.hypot(a.n - b.n, a.e - b.e, a.d - b.d);
        this.note('separation', timeS, i, dist - this.separationM, `drones ${i} and ${j} ${dist.toFixed(2)} m apart`);
      }
    }
  }

  /** Vertical distance from an altitude outside a zone's band to the band (m). */
  private bandClearance(zone: NoFlyZone, altitudeM: number): number {
    if (zone.topM !== undefined && altitudeM > zone.topM) return altitudeM - zone.topM;
    if (zone.floorM !== undefined && altitudeM < zone.floorM) return zone.floorM - altitudeM;
    return 0;
  }

  private note(kind: LimitKind, timeS: number, drone: number, clearanceM: number, detail: string): void {
    if (clearanceM < this.minClearanceM[kind]) this.minClearanceM[kind] = clearanceM;
    // Keep the first few breaches of each kind: enough to read, bounded if something goes badly wrong.
    if (clearanceM < 0 && this.breaches.filter((b) => b.kind === kind).length < 20) {
      this.breaches.push({ kind, timeS, drone, depthM: -clearanceM, detail });
    }
  }
}
